// A TCP proxy in front of the test API server, so that a test can do to a client's connections
// what a network does: cut them, refuse new ones, or freeze them (open, but nothing gets through,
// as with a peer that vanished without closing). TLS passes through untouched: the API server's
// certificate is for 127.0.0.1, which is where the proxy listens too.
import { connect, createServer, type Socket } from 'node:net';
import { LOOPBACK } from './child-process-server.ts';

export interface ConnectionProxy {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** Destroys every connection open now. */
  cut(): void;
  /** While refusing, a new connection is closed as soon as it is accepted. */
  refuse(refusing: boolean): void;
  /** Stops passing bytes on the connections open now; they stay open. New ones work. */
  freeze(): void;
  /** How many connections it has accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startConnectionProxy(target: URL): Promise<ConnectionProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let refusing = false;
  let accepted = 0;
  const server = createServer((client) => {
    accepted += 1;
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of pair) {
      socket.on('error', drop);
      socket.on('close', drop);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: LOOPBACK }, () => resolve());
  });
  const cut = (): void => {
    for (const pair of [...pairs]) pair.forEach((socket) => socket.destroy());
  };
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('the proxy has no port');
  return {
    url: `https://${LOOPBACK}:${address.port}`,
    cut,
    refuse(value) {
      refusing = value;
    },
    freeze() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    get accepted() {
      return accepted;
    },
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
