// The callback policy as tables: given TOLLGATE_CALLBACK_HOSTS (and where the server listens),
// a URL, and at send time the addresses its name resolved to, then allowed or refused and why.
// Nothing here resolves a name or opens a socket: the policy is pure.

import { describe, expect, it } from 'vitest';
import {
  addressRefusal,
  type CallbackRules,
  callbackUrlRefusal,
  parseIp,
  type ServerEndpoint,
} from './callback-policy.ts';

const unset: readonly string[] = [];
const any = ['*'];
const listed = ['switch.example', '10.0.0.5:8088', '[::1]:9'];
/** The server listens on port 8080 of 10.0.0.2 (and so of loopback). */
const server: ServerEndpoint = { port: 8080, addresses: ['10.0.0.2'] };

type AddressCase = [hosts: readonly string[], url: string, address: string, expected: string];

const verdict = (refused: { reason: string } | null) => refused?.reason ?? 'allowed';

describe('a callback URL, when it is given (no DNS)', () => {
  const cases: Array<[hosts: readonly string[], url: string, expected: string]> = [
    // Unset: loopback only.
    [unset, 'http://127.0.0.1:9000/cb', 'allowed'],
    [unset, 'http://127.1.2.3/cb', 'allowed'],
    [unset, 'http://[::1]:9000/cb', 'allowed'],
    [unset, 'http://[::ffff:127.0.0.1]/cb', 'allowed'],
    [unset, 'http://localhost:9000/cb', 'allowed'],
    [unset, 'https://LOCALHOST/cb', 'allowed'],
    [unset, 'http://2130706433/cb', 'allowed'], // 127.0.0.1 written as one number
    [unset, 'http://10.0.0.1/hangup', 'not_loopback'],
    [unset, 'http://192.168.1.20:5432/', 'not_loopback'],
    [unset, 'http://switch.example/hangup', 'not_loopback'],
    [unset, 'http://localhost.evil.test/', 'not_loopback'],
    [unset, 'http://[fec0::1]/', 'not_loopback'],
    [unset, 'ftp://127.0.0.1/cb', 'scheme_not_http'],
    // Refused whatever the list says: link-local, metadata, unspecified, in every spelling.
    [unset, 'http://169.254.169.254/latest/meta-data', 'metadata_address'],
    [any, 'http://169.254.169.254/latest/meta-data', 'metadata_address'],
    [any, 'http://2852039166/latest/meta-data', 'metadata_address'],
    [any, 'http://0xa9.0xfe.0xa9.0xfe/', 'metadata_address'],
    [any, 'http://[::ffff:169.254.169.254]/', 'metadata_address'],
    [any, 'http://[::ffff:a9fe:a9fe]/', 'metadata_address'],
    [any, 'http://[::169.254.169.254]/', 'metadata_address'],
    [any, 'http://[64:ff9b::169.254.169.254]/', 'metadata_address'],
    [any, 'http://[fd00:ec2::254]/latest/meta-data', 'metadata_address'],
    [['169.254.169.254'], 'http://169.254.169.254/', 'metadata_address'],
    [any, 'http://169.254.1.1/', 'link_local_address'],
    [any, 'http://[fe80::1]/', 'link_local_address'],
    [any, 'http://[febf:ffff::1]/', 'link_local_address'],
    [any, 'http://[::ffff:169.254.1.1]/', 'link_local_address'],
    [any, 'http://0.0.0.0:9000/', 'unspecified_address'],
    [any, 'http://0/', 'unspecified_address'],
    [unset, 'http://0.1.2.3/', 'unspecified_address'],
    [any, 'http://[::]:9000/', 'unspecified_address'],
    [any, 'http://[::ffff:0.0.0.0]/', 'unspecified_address'],
    // `*`: any host except those.
    [any, 'http://10.0.0.1/hangup', 'allowed'],
    [any, 'https://switch.example/hangup', 'allowed'],
    [any, 'http://127.0.0.1:5432/', 'allowed'],
    [any, 'http://[fec0::1]/', 'allowed'],
    // A list: `host` is any port of it, `host:port` that port only, and loopback is no longer
    // implied.
    [listed, 'https://SWITCH.example:8443/hangup', 'allowed'],
    [listed, 'http://10.0.0.5:8088/hangup', 'allowed'],
    [listed, 'http://10.0.0.5:8089/hangup', 'host_not_listed'],
    [listed, 'http://[::1]:9/hangup', 'allowed'],
    [listed, 'http://127.0.0.1:9/hangup', 'host_not_listed'],
    [listed, 'http://localhost/hangup', 'host_not_listed'],
    [listed, 'https://switch.example.evil.test/', 'host_not_listed'],
    [['switch.example:80'], 'http://switch.example/hangup', 'allowed'],
    [['switch.example:443'], 'https://switch.example/hangup', 'allowed'],
  ];
  it.each(cases)('hosts %j: %s is %s', (hosts, url, expected) => {
    expect(verdict(callbackUrlRefusal(new URL(url), { hosts, server: null }))).toBe(expected);
  });
});

describe("the server's own port, once it listens", () => {
  const cases: Array<[hosts: readonly string[], url: string, expected: string]> = [
    [unset, 'http://127.0.0.1:8080/v1/transfers', 'own_server'],
    [unset, 'http://127.0.0.2:8080/v1/transfers', 'own_server'],
    [unset, 'http://localhost:8080/v1/transfers', 'own_server'],
    [unset, 'http://[::1]:8080/v1/transfers', 'own_server'],
    [unset, 'http://[::ffff:127.0.0.1]:8080/', 'own_server'],
    [['127.0.0.1'], 'http://127.0.0.1:8080/', 'own_server'],
    [['127.0.0.1:8080'], 'http://127.0.0.1:8080/', 'own_server'],
    [any, 'http://10.0.0.2:8080/', 'own_server'],
    [unset, 'http://127.0.0.1:8081/cb', 'allowed'],
    [any, 'http://10.0.0.3:8080/', 'allowed'],
    // A name is judged by its addresses when it is sent (below).
    [any, 'http://switch.example:8080/', 'allowed'],
  ];
  it.each(cases)('hosts %j: %s is %s', (hosts, url, expected) => {
    expect(verdict(callbackUrlRefusal(new URL(url), { hosts, server }))).toBe(expected);
  });

  it('counts the default port of the scheme', () => {
    const https: CallbackRules = { hosts: unset, server: { port: 443, addresses: [] } };
    expect(verdict(callbackUrlRefusal(new URL('https://localhost/cb'), https))).toBe('own_server');
    expect(verdict(callbackUrlRefusal(new URL('http://localhost/cb'), https))).toBe('allowed');
  });
});

describe('each address a name resolved to, when it is sent', () => {
  const cases: AddressCase[] = [
    [unset, 'http://localhost:9000/cb', '127.0.0.1', 'allowed'],
    [unset, 'http://localhost:9000/cb', '::1', 'allowed'],
    [unset, 'http://localhost:9000/cb', '::ffff:127.0.0.1', 'allowed'],
    [unset, 'http://localhost:9000/cb', '10.0.0.1', 'not_loopback'],
    [unset, 'http://localhost:9000/cb', '169.254.169.254', 'metadata_address'],
    [any, 'http://hooks.example/cb', '10.0.0.1', 'allowed'],
    [any, 'http://hooks.example/cb', '2001:db8::1', 'allowed'],
    [any, 'http://hooks.example/cb', '127.0.0.1', 'allowed'],
    [any, 'http://hooks.example/cb', '169.254.169.254', 'metadata_address'],
    [any, 'http://hooks.example/cb', '::ffff:169.254.169.254', 'metadata_address'],
    [any, 'http://hooks.example/cb', '::ffff:a9fe:a9fe', 'metadata_address'],
    [any, 'http://hooks.example/cb', 'fd00:ec2::254', 'metadata_address'],
    [any, 'http://hooks.example/cb', 'FD00:0EC2:0:0:0:0:0:0254', 'metadata_address'],
    [any, 'http://hooks.example/cb', '169.254.10.10', 'link_local_address'],
    [any, 'http://hooks.example/cb', 'fe80::1%eth0', 'link_local_address'],
    [any, 'http://hooks.example/cb', '0.0.0.0', 'unspecified_address'],
    [any, 'http://hooks.example/cb', '::', 'unspecified_address'],
    [['hooks.example'], 'http://hooks.example/cb', '10.0.0.1', 'allowed'],
    [['hooks.example'], 'http://hooks.example:8080/cb', '127.0.0.1', 'own_server'],
    [['hooks.example'], 'http://hooks.example:8080/cb', '::1', 'own_server'],
    [['hooks.example'], 'http://hooks.example:8080/cb', '10.0.0.2', 'own_server'],
    [['hooks.example'], 'http://hooks.example:9090/cb', '127.0.0.1', 'allowed'],
    [any, 'http://hooks.example/cb', 'hooks.example', 'address_invalid'],
    [any, 'http://hooks.example/cb', '010.0.0.1', 'address_invalid'],
  ];
  it.each(cases)('hosts %j: %s resolved to %s is %s', (hosts, url, address, expected) => {
    expect(verdict(addressRefusal(new URL(url), address, { hosts, server }))).toBe(expected);
  });

  it('says why, naming the address', () => {
    const refused = addressRefusal(new URL('http://localhost/cb'), '10.0.0.1', {
      hosts: unset,
      server: null,
    });
    expect(refused?.message).toMatch(/localhost \(10\.0\.0\.1\).*TOLLGATE_CALLBACK_HOSTS is unset/);
  });
});

describe('IP addresses', () => {
  const cases: Array<[text: string, bytes: number[] | null]> = [
    ['127.0.0.1', [127, 0, 0, 1]],
    ['[::1]', [...new Array(15).fill(0), 1]],
    ['::ffff:7f00:1', [127, 0, 0, 1]],
    ['64:ff9b::a9fe:a9fe', [169, 254, 169, 254]],
    ['fe80::1%eth0', [0xfe, 0x80, ...new Array(13).fill(0), 1]],
    ['1:2:3:4:5:6:7:8', [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
    ['1:2:3:4:5:6:7::', [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]],
    ['1:2:3:4:5:6:7:8:9', null],
    ['1:2:3:4:5:6:7:8::', null],
    ['1::2::3', null],
    ['1.2.3.4::', null],
    ['12345::', null],
    ['256.1.1.1', null],
    ['1.2.3', null],
    ['01.2.3.4', null],
    ['localhost', null],
  ];
  it.each(cases)('%s', (text, bytes) => {
    expect(parseIp(text)).toEqual(bytes);
  });
});
