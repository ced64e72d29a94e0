// The codec against packets built by hand from RFC 2865, 2866, 3579 and 5176: authenticators,
// Message-Authenticator, the Cisco VSAs, and malformed input that must be refused, not thrown.

import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkRequest,
  checkResponse,
  ciscoAttribute,
  ciscoTextOf,
  decodeAttributes,
  encodeRequest,
  encodeResponse,
  integerOf,
  packetCodes,
  readHeader,
  textOf,
} from './radius-codec.ts';

const secret = 'testing123';
const md5 = (...parts: Buffer[]) => {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest();
};
const attr = (type: number, value: Buffer | string) => {
  const data = Buffer.from(value);
  return Buffer.concat([Buffer.from([type, data.length + 2]), data]);
};
const int = (type: number, value: number) => {
  const data = Buffer.alloc(4);
  data.writeUInt32BE(value);
  return attr(type, data);
};

function packet(code: number, attrs: Buffer[], authenticator: Buffer = Buffer.alloc(16)): Buffer {
  const body = Buffer.concat(attrs);
  const out = Buffer.alloc(20 + body.length);
  out[0] = code;
  out[1] = 42;
  out.writeUInt16BE(out.length, 2);
  authenticator.copy(out, 4);
  body.copy(out, 20);
  return out;
}

/** An Access-Request with a Message-Authenticator as RFC 3579 computes it. */
function accessRequest(attrs: Buffer[], key = secret): Buffer {
  const out = packet(1, [attr(80, Buffer.alloc(16)), ...attrs], randomBytes(16));
  createHmac('md5', key).update(out).digest().copy(out, 22);
  return out;
}

/** An Accounting-Request: Request Authenticator = MD5(packet with zeros there + secret). */
function accountingRequest(attrs: Buffer[], key = secret): Buffer {
  const out = packet(4, attrs);
  md5(out, Buffer.from(key)).copy(out, 4);
  return out;
}

describe('requests', () => {
  it('takes an Access-Request only with a valid Message-Authenticator', () => {
    const good = accessRequest([attr(1, '15550001234')]);
    expect(checkRequest(good, secret)).toBe('ok');
    expect(checkRequest(accessRequest([attr(1, 'x')], 'other'), secret)).toBe('mac_invalid');
    expect(checkRequest(packet(1, [attr(1, 'x')], randomBytes(16)), secret)).toBe('mac_missing');
    const tampered = Buffer.from(good);
    tampered[tampered.length - 1] = 0x30;
    expect(checkRequest(tampered, secret)).toBe('mac_invalid');
  });

  it('takes an Accounting-Request only with a valid Request Authenticator', () => {
    const good = accountingRequest([int(40, 1), attr(44, 's1')]);
    expect(checkRequest(good, secret)).toBe('ok');
    expect(checkRequest(accountingRequest([int(40, 1)], 'other'), secret)).toBe(
      'authenticator_invalid',
    );
  });

  it('checks a Message-Authenticator in accounting over a zero Request Authenticator', () => {
    const out = packet(4, [attr(80, Buffer.alloc(16)), int(40, 1), attr(44, 's1')]);
    createHmac('md5', secret).update(out).digest().copy(out, 22);
    md5(out, Buffer.from(secret)).copy(out, 4);
    expect(checkRequest(out, secret)).toBe('ok');
    out[22] = out[22]! ^ 1;
    md5(
      Buffer.concat([out.subarray(0, 4), Buffer.alloc(16), out.subarray(20)]),
      Buffer.from(secret),
    ).copy(out, 4);
    expect(checkRequest(out, secret)).toBe('mac_invalid');
  });

  it('refuses attributes that overrun or repeat the Message-Authenticator', () => {
    const overrun = packet(4, [Buffer.from([1, 40, 65])]);
    expect(checkRequest(overrun, secret)).toBe('attributes_malformed');
    const twice = accessRequest([attr(80, Buffer.alloc(16))]);
    expect(checkRequest(twice, secret)).toBe('attributes_malformed');
  });

  it('reads headers and refuses what is not a packet', () => {
    expect(readHeader(Buffer.alloc(19))).toBeNull();
    const short = Buffer.alloc(20);
    short.writeUInt16BE(19, 2);
    expect(readHeader(short)).toBeNull();
    const long = Buffer.alloc(20);
    long.writeUInt16BE(40, 2);
    expect(readHeader(long)).toBeNull();
    const padded = Buffer.concat([accountingRequest([int(40, 2)]), Buffer.alloc(5)]);
    expect(readHeader(padded)).toMatchObject({ code: 4, identifier: 42, length: 26 });
  });

  it('decodes attributes by name, Cisco VSAs without their name= prefix', () => {
    const vsa = Buffer.concat([Buffer.from([0, 0, 0, 9]), attr(24, 'h323-conf-id=ABC 123')]);
    const attributes = decodeAttributes(
      accountingRequest([int(40, 3), attr(44, 's1'), int(46, 30), attr(26, vsa)]),
    );
    expect(attributes).not.toBeNull();
    expect(textOf(attributes!, 'Acct-Status-Type')).toBe('Interim-Update');
    expect(integerOf(attributes!, 'Acct-Session-Time')).toBe(30);
    expect(ciscoTextOf(attributes!, 'h323-conf-id')).toBe('ABC 123');
  });

  it('returns null, never throws, for malformed attributes', () => {
    const samples = [
      packet(4, [Buffer.from([46, 3, 1])]),
      packet(4, [Buffer.from([26, 4, 1, 2])]),
      packet(4, [Buffer.from([26, 2])]),
      packet(4, [Buffer.from([40, 0])]),
    ];
    for (const sample of samples) expect(() => decodeAttributes(sample)).not.toThrow();
    expect(decodeAttributes(samples[0]!)).toBeNull();
    for (let i = 0; i < 2000; i += 1) {
      const junk = packet(4, [randomBytes(1 + (i % 60))]);
      expect(() => decodeAttributes(junk)).not.toThrow();
      expect(() => checkRequest(junk, secret)).not.toThrow();
    }
  });
});

describe('answers and Disconnect-Requests', () => {
  it('signs an Access-Accept: Message-Authenticator first, then the Response Authenticator', () => {
    const request = accessRequest([attr(1, 'u')]);
    const requestAuthenticator = request.subarray(4, 20);
    const answer = encodeResponse({
      code: packetCodes.accessAccept,
      identifier: 42,
      requestAuthenticator,
      secret,
      attributes: [['Session-Timeout', 490], ciscoAttribute('h323-credit-time', 490)],
    });
    expect(answer[0]).toBe(2);
    expect(answer[20]).toBe(80);
    const withRequestAuth = Buffer.from(answer);
    requestAuthenticator.copy(withRequestAuth, 4);
    expect(md5(withRequestAuth, Buffer.from(secret)).equals(answer.subarray(4, 20))).toBe(true);
    const macZeroed = Buffer.from(withRequestAuth);
    macZeroed.fill(0, 22, 38);
    const mac = createHmac('md5', secret).update(macZeroed).digest();
    expect(mac.equals(answer.subarray(22, 38))).toBe(true);
    expect(answer.includes(Buffer.from('h323-credit-time=490'))).toBe(true);
  });

  it('answers accounting without a Message-Authenticator', () => {
    const answer = encodeResponse({
      code: packetCodes.accountingResponse,
      identifier: 1,
      requestAuthenticator: Buffer.alloc(16, 7),
      secret,
      attributes: [],
    });
    expect(answer.length).toBe(20);
  });

  it('signs a Disconnect-Request as RFC 5176 says, and checks its ACK', () => {
    const request = encodeRequest({
      code: packetCodes.disconnectRequest,
      identifier: 5,
      secret,
      attributes: [['Acct-Session-Id', 's1']],
    });
    const zeroed = Buffer.from(request);
    zeroed.fill(0, 4, 20);
    expect(md5(zeroed, Buffer.from(secret)).equals(request.subarray(4, 20))).toBe(true);
    zeroed.fill(0, 22, 38);
    expect(createHmac('md5', secret).update(zeroed).digest().equals(request.subarray(22, 38))).toBe(
      true,
    );
    const ack = packet(41, [], request.subarray(4, 20));
    ack[1] = 5;
    md5(ack, Buffer.from(secret)).copy(ack, 4);
    expect(checkResponse(ack, request.subarray(4, 20), secret)).toBe(true);
    expect(checkResponse(ack, Buffer.alloc(16), secret)).toBe(false);
    expect(checkResponse(ack, request.subarray(4, 20), 'other')).toBe(false);
  });
});
