// Where a listening server answers, for the own-port rule: its listening address, or every
// address of this machine when it listens on all interfaces.

import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { serverEndpointOf } from './callback-target.ts';

describe('serverEndpointOf', () => {
  it('keeps a specific listening address as it is', () => {
    expect(serverEndpointOf([{ address: '10.0.0.2' }, '/tmp/socket'], 8080)).toEqual({
      port: 8080,
      addresses: ['10.0.0.2'],
    });
  });

  it('adds every interface address when the server listens on all of them', () => {
    const local = Object.values(networkInterfaces()).flatMap((infos) =>
      (infos ?? []).map((info) => info.address),
    );
    for (const everywhere of ['0.0.0.0', '::']) {
      const endpoint = serverEndpointOf([{ address: everywhere }], 8080);
      expect(endpoint.addresses).toEqual([everywhere, ...local]);
    }
  });
});
