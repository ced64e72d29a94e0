// A webhook receiver on 127.0.0.1 for tests: records every request it gets and answers with
// the status `statusOf` picks (204 unless told).

import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface Receiver {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly base: string;
  readonly received: Received[];
  close(): Promise<void>;
}

export async function startReceiver(statusOf: (url: string) => number = () => 204) {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      const url = request.url ?? '';
      received.push({ url, headers: request.headers, body });
      response.writeHead(statusOf(url)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver: Receiver = {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return receiver;
}
