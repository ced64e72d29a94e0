// TOLLGATE_RADIUS_* as src/config.ts reads them.

import { describe, expect, it } from 'vitest';
import { radiusConfigOf, readEnv } from '../../config.ts';

describe('radiusConfigOf', () => {
  it('starts no agent without TOLLGATE_RADIUS_CLIENTS', () => {
    expect(readEnv({}).radius).toBeNull();
    expect(radiusConfigOf({ TOLLGATE_RADIUS_CLIENTS: ' , ' })).toBeNull();
  });

  it('reads clients, their keys and CoA ports, and the listeners', () => {
    expect(
      radiusConfigOf({
        TOLLGATE_RADIUS_CLIENTS: '127.0.0.1=s3cret=x, 127.0.0.7=other;key=tg_b;coa_port=1700',
        TOLLGATE_RADIUS_SWITCH_KEY: 'tg_a',
        TOLLGATE_RADIUS_PORT: '11812',
      }),
    ).toEqual({
      host: '127.0.0.1',
      authPort: 11812,
      acctPort: 11813,
      clients: [
        { address: '127.0.0.1', secret: 's3cret=x', switchKey: 'tg_a', coaPort: 3799 },
        { address: '127.0.0.7', secret: 'other', switchKey: 'tg_b', coaPort: 1700 },
      ],
    });
    expect(
      radiusConfigOf({
        TOLLGATE_RADIUS_CLIENTS: '::1=s;key=k',
        TOLLGATE_RADIUS_HOST: '::1',
        TOLLGATE_RADIUS_ACCT_PORT: '2000',
      }),
    ).toMatchObject({ host: '::1', authPort: 1812, acctPort: 2000 });
  });

  it('stops the start-up on a malformed value, never showing a secret', () => {
    const refused = (env: Record<string, string>) => () => radiusConfigOf(env);
    expect(refused({ TOLLGATE_RADIUS_CLIENTS: 'nas.example=secret;key=k' })).toThrow(/entry 1/);
    expect(refused({ TOLLGATE_RADIUS_CLIENTS: '127.0.0.1=' })).toThrow(/address=secret/);
    expect(refused({ TOLLGATE_RADIUS_CLIENTS: '127.0.0.1=s' })).toThrow(/no switch key/);
    expect(refused({ TOLLGATE_RADIUS_CLIENTS: '127.0.0.1=s;key=k;coa=1' })).toThrow(/option/);
    expect(
      refused({ TOLLGATE_RADIUS_CLIENTS: '127.0.0.1=s;key=k', TOLLGATE_RADIUS_PORT: '70000' }),
    ).toThrow(/not a port/);
    try {
      radiusConfigOf({ TOLLGATE_RADIUS_CLIENTS: 'bad host=topsecret' });
    } catch (error) {
      expect(String(error)).not.toContain('topsecret');
    }
  });
});
