import { describe, expect, it } from 'vitest';
import { readEnv } from './config.ts';
import { chargingSettingsDefaults } from './core/charging/charging.ts';

describe('readEnv', () => {
  it('reads TOLLGATE_CALLBACK_HOSTS as a lower-case list; unset or empty keeps the loopback-only default, * is any host', () => {
    const hostsOf = (value: string | undefined) =>
      readEnv(value === undefined ? {} : { TOLLGATE_CALLBACK_HOSTS: value }).charging.callbackHosts;
    expect(hostsOf(' Switch-1.Example , 10.0.0.5:8088,,[::1]:9 ')).toEqual([
      'switch-1.example',
      '10.0.0.5:8088',
      '[::1]:9',
    ]);
    for (const unset of [undefined, '', ' , ']) {
      expect(hostsOf(unset)).toBeUndefined();
    }
    expect(chargingSettingsDefaults.callbackHosts).toEqual([]);
    for (const any of ['*', 'switch.example,*']) {
      expect(hostsOf(any)).toEqual(['*']);
    }
  });

  it('keeps charging defaults for values out of range or not whole numbers', () => {
    const charging = readEnv({
      TOLLGATE_CHARGING_SLICE_SECONDS: '0',
      TOLLGATE_CHARGING_GRACE_SECONDS: '2.5',
      TOLLGATE_CHARGING_MIN_BALANCE: '-1',
    }).charging;
    expect(charging).toEqual({});
    expect(
      readEnv({ TOLLGATE_CHARGING_SLICE_SECONDS: '120', TOLLGATE_CHARGING_REQUEST_LOG_DAYS: '30' })
        .charging,
    ).toEqual({ sliceSeconds: 120, requestLogDays: 30 });
    expect(readEnv({ TOLLGATE_CHARGING_REQUEST_LOG_DAYS: '0' }).charging).toEqual({});
  });
});
