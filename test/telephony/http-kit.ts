// The HTTP kit: Kamailio running integrations/kamailio/tollgate-http.cfg, plain http_client
// against Tollgate's HTTP API, with disconnect callbacks to an xhttp listener.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { freeTcpPort, type Kit } from './kamailio-calls.ts';
import { integrationsDir, sleep, startKamailio, waitFor } from './support.ts';

let tollgatePort = 0;
let callbackPort = 0;
let blocked: string | null = null;
const callbackPath = `/tollgate/${randomBytes(12).toString('hex')}`;

export const httpKit: Kit = {
  name: 'http',
  async prepare() {
    tollgatePort = await freeTcpPort();
    callbackPort = await freeTcpPort();
  },
  tollgateEnv: () => ({}),
  tollgatePort: () => tollgatePort,
  blocked: () => blocked,
  unsupported: {
    supervision:
      "the HTTP kit keeps each call's clock in Kamailio: a Tollgate restart loses nothing, so no session goes silent",
  },
  async startProxy({ dir, db, tollgate, sipPort, calleePort }) {
    // http_client sends the key as HTTP Basic (user:key in the connection URL): one header, so
    // the content type can be http_connect's own. A server that takes only Bearer keys answers
    // 401, and every call would fail closed: the cases then say so instead of failing.
    const basic = Buffer.from(`switch:${db.switchKey}`).toString('base64');
    const probe = await fetch(`${tollgate.url}/v1/charging/sessions?limit=1`, {
      headers: { authorization: `Basic ${basic}` },
    });
    if (probe.status === 401) {
      blocked =
        'the HTTP API does not take the API key as HTTP Basic auth yet (Kamailio http_connect sends user:key)';
    }
    const proxy = startKamailio({
      cfg: join(integrationsDir, 'tollgate-http.cfg'),
      dir,
      sipPort,
      defines: {
        TG_CALLBACK_LISTEN: `tcp:127.0.0.1:${callbackPort}`,
        TG_CALLBACK_URL: `"http://127.0.0.1:${callbackPort}${callbackPath}"`,
        TG_CALLBACK_PATH: `"${callbackPath}"`,
        TG_HTTPCON: `"tollgate=>http://switch:${db.switchKey}@127.0.0.1:${tollgatePort}/v1"`,
        TG_GATEWAY: `"sip:127.0.0.1:${calleePort}"`,
      },
    });
    return proxy;
  },
  async proxyReady(proxy) {
    await waitFor(
      'Kamailio to start',
      () => {
        if (!proxy.alive) throw new Error(`kamailio exited: ${proxy.output.slice(-3000)}`);
        return /jsonrpc_dgram_process|INFO: <core> \[core\/tcp_main/.test(proxy.output);
      },
      10_000,
    );
    await sleep(500);
  },
  async proxyLostTollgate() {
    // Each INVITE asks Tollgate afresh: nothing to wait for.
  },
};
