// /healthz (the process serves), /readyz (its caches are filled), /metrics (Prometheus). A standby
// replica is ready too: it serves, and its caches are warm for when it leads.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OpsHandlers {
  ready(): boolean;
  metrics(): Promise<{ contentType: string; body: string }>;
}

export function createOpsServer(handlers: OpsHandlers): Server {
  return createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ready = handlers.ready();
      response
        .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ready ? 'ok\n' : 'caches not synced\n');
    } else if (path === '/metrics') {
      handlers.metrics().then(
        ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
        (error: unknown) =>
          response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
      );
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
}

/** Listens; resolves with the bound port (useful with port 0). */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
