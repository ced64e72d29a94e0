// The RADIUS attribute contract as tables: given these attributes, the core hears this; given
// this answer, the NAS gets these attributes.

import { describe, expect, it } from 'vitest';
import type { Authorization } from '../../core/charging/charging.ts';
import { switchAnswers } from '../../core/charging/switch-answers.ts';
import {
  acceptAttributes,
  accountingOf,
  callOf,
  disconnectTargetOf,
  h323ReturnCodeOf,
  h323ReturnCodes,
  numberOf,
  radiusCallbackUrl,
  rejectAttributes,
  terminateReasonOf,
} from './radius-mapping.ts';

describe('Access-Request to a call', () => {
  const cases: Array<[string, Record<string, unknown>, unknown]> = [
    [
      'User-Name equal to the calling number: the caller-number balance',
      {
        'User-Name': '15550001234',
        'Calling-Station-Id': '15550001234',
        'Called-Station-Id': '12125550100',
      },
      {
        subscriber: { ani: '15550001234' },
        callerNumber: '15550001234',
        calledNumber: '12125550100',
      },
    ],
    [
      'any other User-Name: a calling card by PIN',
      {
        'User-Name': '123456789012',
        'Calling-Station-Id': '15550001234',
        'Called-Station-Id': '+12125550100',
      },
      {
        subscriber: { pin: '123456789012' },
        callerNumber: '15550001234',
        calledNumber: '+12125550100',
      },
    ],
    [
      'numbers written as SIP URIs',
      {
        'User-Name': '15550001234',
        'Calling-Station-Id': 'sip:15550001234@nas',
        'Called-Station-Id': 'sip:12125550100@gw;user=phone',
      },
      {
        subscriber: { ani: '15550001234' },
        callerNumber: '15550001234',
        calledNumber: '12125550100',
      },
    ],
    [
      'no Calling-Station-Id: User-Name is a PIN',
      { 'User-Name': '15550001234', 'Called-Station-Id': '12125550100' },
      { subscriber: { pin: '15550001234' }, callerNumber: undefined },
    ],
  ];
  for (const [name, attributes, expected] of cases) {
    it(name, () => {
      const parsed = callOf(attributes, 'radius:127.0.0.1');
      expect(parsed.ok).toBe(true);
      if (parsed.ok) expect(parsed.call).toMatchObject(expected as object);
    });
  }

  const refusals: Array<[string, Record<string, unknown>, string]> = [
    ['no User-Name', { 'Called-Station-Id': '12125550100' }, 'invalid_request'],
    ['no Called-Station-Id', { 'User-Name': '1555' }, 'invalid_request'],
    [
      'a Called-Station-Id that is no number',
      { 'User-Name': '1', 'Called-Station-Id': 'abc' },
      'number_malformed',
    ],
  ];
  for (const [name, attributes, code] of refusals) {
    it(`refuses ${name} with ${code}`, () => {
      expect(callOf(attributes, 'radius:127.0.0.1')).toMatchObject({ ok: false, code });
    });
  }

  it('reads numbers', () => {
    expect(numberOf(' +4420 ')).toBe('+4420');
    expect(numberOf('tel:4420')).toBe('4420');
    expect(numberOf('12a')).toBeUndefined();
    expect(numberOf(undefined)).toBeUndefined();
  });
});

describe('answers to an Access-Request', () => {
  const authorization = {
    maxSeconds: 490,
    availableMinor: 500n,
    currency: 'USD',
  } as unknown as Authorization;

  it('accepts with Session-Timeout and the Cisco h323 VSAs written as name=value', () => {
    expect(acceptAttributes(authorization)).toEqual([
      ['Session-Timeout', 490],
      ['Vendor-Specific', 9, [['h323-return-code', 'h323-return-code=0']]],
      ['Vendor-Specific', 9, [['h323-credit-time', 'h323-credit-time=490']]],
      ['Vendor-Specific', 9, [['h323-credit-amount', 'h323-credit-amount=5.00']]],
      ['Vendor-Specific', 9, [['h323-currency', 'h323-currency=USD']]],
      ['Vendor-Specific', 9, [['h323-billing-model', 'h323-billing-model=1']]],
    ]);
  });

  it('rejects with Reply-Message and the refusal’s h323-return-code', () => {
    expect(rejectAttributes('insufficient_balance', 'No money.')).toEqual([
      ['Reply-Message', 'No money.'],
      ['Vendor-Specific', 9, [['h323-return-code', 'h323-return-code=4']]],
    ]);
    const long = rejectAttributes('no_route', 'x'.repeat(400))[0]![1] as string;
    expect(long).toHaveLength(253);
  });

  it('has an h323-return-code for every refusal the switch table answers with Access-Reject', () => {
    const rejected = Object.entries(switchAnswers)
      .filter(([, answer]) => answer.radius === 'Access-Reject')
      .map(([code]) => code);
    const table: Array<[string, number]> = [
      ['insufficient_balance', 4],
      ['unknown_account', 1],
      ['pin_malformed', 1],
      ['account_frozen', 7],
      ['redeem_locked', 10],
      ['destination_not_allowed', 9],
      ['number_malformed', 11],
      ['no_route', 8],
      ['routing_plan_missing', 8],
      ['invalid_request', 11],
    ];
    for (const [code, h323] of table) expect(h323ReturnCodeOf(code), code).toBe(h323);
    for (const code of rejected) expect(h323ReturnCodeOf(code), code).toBeGreaterThan(0);
    expect(Object.keys(h323ReturnCodes).every((code) => code in switchAnswers)).toBe(true);
  });
});

describe('Accounting-Request to a report', () => {
  const base = { 'Acct-Session-Id': 'abc-1' };
  const cases: Array<[string, Record<string, unknown>, unknown]> = [
    [
      'Start',
      { ...base, 'Acct-Status-Type': 'Start', 'Acct-Delay-Time': 2 },
      { kind: 'start', delaySeconds: 2 },
    ],
    [
      'Interim-Update',
      { ...base, 'Acct-Status-Type': 'Interim-Update', 'Acct-Session-Time': 30 },
      { kind: 'interim', sessionSeconds: 30, delaySeconds: 0 },
    ],
    [
      'Stop',
      {
        ...base,
        'Acct-Status-Type': 'Stop',
        'Acct-Session-Time': 42,
        'Acct-Terminate-Cause': 'User-Request',
      },
      { kind: 'stop', sessionSeconds: 42, terminateCause: 'User-Request' },
    ],
    ['Accounting-On', { 'Acct-Status-Type': 'Accounting-On' }, { kind: 'on' }],
  ];
  for (const [name, attributes, expected] of cases) {
    it(name, () => {
      expect(accountingOf(attributes)).toMatchObject({ ok: true, ...(expected as object) });
    });
  }

  it('refuses what cannot be billed', () => {
    expect(accountingOf({ 'Acct-Status-Type': 'Failed' }).ok).toBe(false);
    expect(accountingOf({ 'Acct-Status-Type': 'Start' }).ok).toBe(false);
    expect(accountingOf({ ...base, 'Acct-Status-Type': 'Stop' }).ok).toBe(false);
    expect(accountingOf({ 'Acct-Session-Id': 'a b', 'Acct-Status-Type': 'Start' }).ok).toBe(false);
  });

  it('names terminate causes for the CDR', () => {
    expect(terminateReasonOf('User-Request')).toBe('normal');
    expect(terminateReasonOf('Admin-Reset')).toBe('disconnected');
    expect(terminateReasonOf('Port-Error')).toBe('radius_port_error');
    expect(terminateReasonOf(undefined)).toBe('normal');
  });
});

describe('radius: callback URLs', () => {
  it('carry the NAS and Acct-Session-Id, and the caller number but never a PIN', () => {
    const ani = radiusCallbackUrl({
      clientAddress: '127.0.0.1',
      acctSessionId: 'a/b c',
      userName: '15550001234',
      subscriber: { ani: '15550001234' },
    });
    expect(ani).toBe('radius:127.0.0.1/a%2Fb%20c?user=15550001234');
    expect(disconnectTargetOf(ani)).toEqual({
      clientAddress: '127.0.0.1',
      acctSessionId: 'a/b c',
      userName: '15550001234',
    });
    const pin = radiusCallbackUrl({
      clientAddress: '::1',
      acctSessionId: 's1',
      userName: '123456789012',
      subscriber: { pin: '123456789012' },
    });
    expect(pin).not.toContain('123456789012');
    expect(disconnectTargetOf(pin)).toEqual({
      clientAddress: '::1',
      acctSessionId: 's1',
      userName: undefined,
    });
    expect(disconnectTargetOf('http://127.0.0.1/y')).toBeNull();
  });
});
