// A webhook receiver on a loopback address (127.0.0.1 unless told) for tests: records every
// request it gets and answers with the status `statusOf` picks (204 unless told).

import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface Receiver {
  /** `http://<host>:<port>`, without a trailing slash. */
  readonly base: string;
  readonly port: number;
  readonly received: Received[];
  close(): Promise<void>;
}

export async function startReceiver(
  statusOf: (url: string) => number = () => 204,
  host: `127.${number}.${number}.${number}` = '127.0.0.1',
) {
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
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: Receiver = {
    base: `http://${host}:${port}`,
    port,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return receiver;
}
