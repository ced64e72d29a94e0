// The evapi kit: Kamailio running integrations/kamailio/tollgate.cfg, charged by Tollgate's
// Kamailio agent over evapi (src/adapters/kamailio).

import { join } from 'node:path';
import { backstopMarginMs, freeTcpPort, type Kit } from './kamailio-calls.ts';
import { integrationsDir, type Proc, startKamailio, waitFor } from './support.ts';

let evapiPort = 0;

/** Kamailio log lines written after `since` (its output is kept whole, so count from a mark). */
const marks = new Map<Proc, number>();

export const evapiKit: Kit = {
  name: 'evapi',
  async prepare() {
    evapiPort = await freeTcpPort();
  },
  tollgateEnv: () => ({ TOLLGATE_KAMAILIO_EVAPI: `127.0.0.1:${evapiPort}` }),
  tollgatePort: () => 0,
  async startProxy({ dir, db, sipPort, calleePort }) {
    // Tollgate's agent started before Kamailio listened: it reconnects on its own (backoff).
    const proxy = startKamailio({
      cfg: join(integrationsDir, 'tollgate.cfg'),
      dir,
      sipPort,
      defines: {
        TG_EVAPI_BIND: `"127.0.0.1:${evapiPort}"`,
        TG_SWITCH_KEY: `"${db.switchKey}"`,
        TG_GATEWAY: `"sip:127.0.0.1:${calleePort}"`,
        TG_BACKSTOP_MARGIN_MS: backstopMarginMs,
      },
    });
    marks.set(proxy, 0);
    return proxy;
  },
  async proxyReady(proxy) {
    const from = marks.get(proxy) ?? 0;
    await waitFor(
      'the agent to be ready on Kamailio',
      () => {
        if (!proxy.alive) throw new Error(`kamailio exited: ${proxy.output.slice(-3000)}`);
        return /tollgate: agent connection \d+ ready/.test(proxy.output.slice(from));
      },
      20_000,
    );
    marks.set(proxy, proxy.output.length);
  },
  async proxyLostTollgate(proxy) {
    const from = marks.get(proxy) ?? 0;
    await waitFor(
      'Kamailio to see the agent gone',
      () => /tollgate: agent connection \d+ closed/.test(proxy.output.slice(from)),
      10_000,
    );
    marks.set(proxy, proxy.output.length);
  },
};
