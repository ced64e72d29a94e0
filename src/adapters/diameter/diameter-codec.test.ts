// The RFC 6733 codec and frame reader: round trips, vendor and grouped AVPs, padding, and every
// error path the decoder reports (with the Result-Code the answer carries).

import { describe, expect, it } from 'vitest';
import { avpNamed } from './avp-dictionary.ts';
import {
  type AvpOut,
  avpOf,
  decodeMessage,
  encodeMessage,
  findAvp,
  findDeep,
  i64Of,
  type MessageOut,
  textOf,
  timeOf,
  u32Of,
} from './diameter-codec.ts';
import { DiameterFrameReader, FrameError } from './frame-reader.ts';

const n = avpNamed;

function message(avps: AvpOut[], overrides: Partial<MessageOut> = {}): MessageOut {
  return {
    commandCode: 272,
    applicationId: 4,
    request: true,
    proxiable: true,
    error: false,
    retransmit: false,
    hopByHop: 0xdead_beef,
    endToEnd: 0x0102_0304,
    avps,
    ...overrides,
  };
}

describe('Diameter codec', () => {
  it('round-trips the header and plain, vendor and grouped AVPs', () => {
    const bytes = encodeMessage(
      message(
        [
          avpOf(n('Session-Id'), 'a;1;x'),
          avpOf(n('CC-Request-Number'), 7),
          avpOf(n('Value-Digits'), -42n),
          avpOf(n('Event-Timestamp'), Date.UTC(2026, 0, 1)),
          avpOf(n('Service-Information'), [
            avpOf(n('IMS-Information'), [avpOf(n('Called-Party-Address'), 'tel:+12125550100')]),
          ]),
        ],
        { retransmit: true },
      ),
    );
    expect(bytes.length % 4).toBe(0);
    expect(bytes.readUInt32BE(0) & 0xff_ffff).toBe(bytes.length);
    const { message: decoded, problem } = decodeMessage(bytes);
    expect(problem).toBeNull();
    expect(decoded).toMatchObject({
      commandCode: 272,
      applicationId: 4,
      request: true,
      proxiable: true,
      error: false,
      retransmit: true,
      hopByHop: 0xdead_beef,
      endToEnd: 0x0102_0304,
    });
    expect(textOf(findAvp(decoded.avps, n('Session-Id')))).toBe('a;1;x');
    expect(u32Of(findAvp(decoded.avps, n('CC-Request-Number')))).toBe(7);
    expect(i64Of(findAvp(decoded.avps, n('Value-Digits')))).toBe(-42n);
    expect(timeOf(findAvp(decoded.avps, n('Event-Timestamp')))).toBe(Date.UTC(2026, 0, 1));
    const called = findDeep(decoded.avps, n('Called-Party-Address'));
    expect(textOf(called)).toBe('tel:+12125550100');
    expect(called?.vendorId).toBe(10415);
    expect(encodeMessage({ ...decoded, avps: decoded.avps })).toEqual(bytes);
  });

  it('pads data to 4 bytes and sets the V and M flags and the Vendor-Id', () => {
    const bytes = encodeMessage(message([avpOf(n('Called-Party-Address'), 'abcde')]));
    // header 20 + AVP header 8 + Vendor-Id 4 + 5 bytes of data, padded to 8.
    expect(bytes.length).toBe(20 + 12 + 8);
    expect(bytes[24]).toBe(0xc0);
    expect(bytes.readUInt32BE(24) & 0xff_ffff).toBe(17);
    expect(bytes.readUInt32BE(28)).toBe(10415);
    expect([...bytes.subarray(37, 40)]).toEqual([0, 0, 0]);
  });

  it('answers an unknown mandatory AVP with 5001 and the AVP as Failed-AVP, even nested', () => {
    const unknown = { code: 424_242, vendorId: 0, mandatory: true, data: Buffer.from('zz') };
    const top = decodeMessage(encodeMessage(message([unknown])));
    expect(top.problem?.resultCode).toBe(5001);
    expect(top.problem?.failedAvp).toMatchObject({ code: 424_242 });
    const nested = decodeMessage(
      encodeMessage(message([avpOf(n('Service-Information'), [unknown])])),
    );
    expect(nested.problem?.resultCode).toBe(5001);
    expect(nested.problem?.failedAvp?.code).toBe(873);
    expect(nested.problem?.failedAvp?.children?.[0]?.code).toBe(424_242);
    const optional = decodeMessage(encodeMessage(message([{ ...unknown, mandatory: false }])));
    expect(optional.problem).toBeNull();
  });

  it('reports fixed-size AVPs of the wrong length (5014) and bad UTF-8 (5004)', () => {
    const short = { ...avpOf(n('CC-Request-Number'), 0), data: Buffer.from([1, 2]) };
    expect(decodeMessage(encodeMessage(message([short]))).problem?.resultCode).toBe(5014);
    const bad = { ...avpOf(n('Session-Id'), ''), data: Buffer.from([0xff, 0xfe]) };
    expect(decodeMessage(encodeMessage(message([bad]))).problem?.resultCode).toBe(5004);
  });

  it('reports an AVP length that overruns the message (5014) and keeps what came before', () => {
    const bytes = encodeMessage(message([avpOf(n('Session-Id'), 'abc'), avpOf(n('CC-Time'), 1)]));
    bytes.writeUInt32BE(((0x40 << 24) | 200) >>> 0, 20 + 12 + 4);
    const { message: decoded, problem } = decodeMessage(bytes);
    expect(problem?.resultCode).toBe(5014);
    expect(textOf(findAvp(decoded.avps, n('Session-Id')))).toBe('abc');
  });

  it('reports an AVP length under its header (5014)', () => {
    const bytes = encodeMessage(message([avpOf(n('CC-Time'), 1)]));
    bytes.writeUInt32BE(((0x40 << 24) | 4) >>> 0, 24);
    expect(decodeMessage(bytes).problem?.resultCode).toBe(5014);
  });

  it('reports reserved header bits (3008) and reserved AVP bits (3009)', () => {
    const bytes = encodeMessage(message([avpOf(n('CC-Time'), 1)]));
    const header = Buffer.from(bytes);
    header[4] = header[4]! | 0x01;
    expect(decodeMessage(header).problem?.resultCode).toBe(3008);
    const flags = Buffer.from(bytes);
    flags[24] = flags[24]! | 0x01;
    expect(decodeMessage(flags).problem?.resultCode).toBe(3009);
    const requestError = encodeMessage(message([], { error: true }));
    expect(decodeMessage(requestError).problem?.resultCode).toBe(3008);
  });

  it('refuses grouped AVPs nested deeper than the limit (5012) without recursing further', () => {
    let deep: AvpOut = avpOf(n('CC-Time'), 1);
    for (let i = 0; i < 2000; i += 1) deep = avpOf(n('Service-Information'), [deep]);
    const { problem } = decodeMessage(encodeMessage(message([deep])));
    expect(problem?.resultCode).toBe(5012);
    let fine: AvpOut = avpOf(n('CC-Time'), 1);
    for (let i = 0; i < 6; i += 1) fine = avpOf(n('Service-Information'), [fine]);
    expect(decodeMessage(encodeMessage(message([fine]))).problem).toBeNull();
  });

  it('encodes IPv4 and IPv6 Host-IP-Address', () => {
    expect(avpOf(n('Host-IP-Address'), '127.0.0.1').data).toEqual(
      Buffer.from([0, 1, 127, 0, 0, 1]),
    );
    const v6 = avpOf(n('Host-IP-Address'), '::1').data!;
    expect(v6.length).toBe(18);
    expect(v6.readUInt16BE(0)).toBe(2);
    expect(v6[17]).toBe(1);
  });
});

describe('Diameter frame reader', () => {
  const frame = (hop: number) =>
    encodeMessage(message([avpOf(n('CC-Time'), hop)], { hopByHop: hop }));

  it('splits pipelined messages and joins split ones', () => {
    const stream = Buffer.concat([frame(1), frame(2), frame(3)]);
    for (const size of [1, 3, 7, 20, 1000]) {
      const reader = new DiameterFrameReader({ frameBytesMax: 4096 });
      const frames: Buffer[] = [];
      for (let at = 0; at < stream.length; at += size) {
        frames.push(...reader.push(stream.subarray(at, at + size)));
      }
      expect(frames.map((each) => each.readUInt32BE(12))).toEqual([1, 2, 3]);
      expect(reader.bufferedBytes).toBe(0);
    }
  });

  it('ends the stream on a bad version (5011) or length (5015), with the header if it came', () => {
    const reader = () => new DiameterFrameReader({ frameBytesMax: 4096 });
    const version = Buffer.from(frame(1));
    version[0] = 2;
    expect(() => reader().push(version)).toThrow(FrameError);
    try {
      reader().push(version);
    } catch (error) {
      expect((error as FrameError).resultCode).toBe(5011);
      expect((error as FrameError).header?.length).toBe(20);
    }
    for (const length of [0, 19, 22, 1 << 20]) {
      const bad = Buffer.from(frame(1));
      bad.writeUInt32BE(((1 << 24) | length) >>> 0, 0);
      let caught: FrameError | null = null;
      try {
        reader().push(bad.subarray(0, 4));
      } catch (error) {
        caught = error as FrameError;
      }
      expect(caught?.resultCode).toBe(5015);
      expect(caught?.header).toBeNull();
    }
  });

  it('waits for a truncated message without growing past it', () => {
    const reader = new DiameterFrameReader({ frameBytesMax: 4096 });
    const whole = frame(9);
    expect(reader.push(whole.subarray(0, whole.length - 1))).toEqual([]);
    expect(reader.bufferedBytes).toBe(whole.length - 1);
    expect(reader.push(whole.subarray(whole.length - 1))).toHaveLength(1);
  });
});
