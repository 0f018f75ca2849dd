// The floor for REST: bare node:http answering every request with the constant JSON body of a GET
// hit (no router, no middleware, no auth). Prints its port. BENCH_VALUE_SIZE: bytes of the value.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exitOnSignals } from './lib/exit-on-signals.ts';

exitOnSignals();
const value = 'v'.repeat(Number(process.env.BENCH_VALUE_SIZE ?? '64'));
const BODY = JSON.stringify({ found: true, value, encoding: 'utf8', source: 'local', degraded: false });

const server = createServer((request, response) => {
  request.resume();
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  response.end(BODY);
});
server.listen(0, '127.0.0.1', () => {
  console.log((server.address() as AddressInfo).port);
});
