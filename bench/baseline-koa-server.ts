// The REST baseline: a bare Koa app with the data plane's route shape that answers constant JSON
// (no auth, no body parsing, no store). Prints its port on stdout. BENCH_VALUE_SIZE: bytes of the
// value (default: the 64-byte VALUE).
import Router from '@koa/router';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { VALUE } from './constants.ts';
import { exitOnSignals } from './lib/exit-on-signals.ts';

exitOnSignals();

const KEY_ROUTE = '/api/v1/cache/:namespace/*key';
const value =
  process.env.BENCH_VALUE_SIZE === undefined ? VALUE : 'v'.repeat(Number(process.env.BENCH_VALUE_SIZE));
const GET_BODY = { found: true, value, encoding: 'utf8', source: 'local', degraded: false };
const SET_BODY = { success: true, degraded: false };

const router = new Router();
router.get(KEY_ROUTE, (ctx) => {
  ctx.body = GET_BODY;
});
router.put(KEY_ROUTE, (ctx) => {
  ctx.body = SET_BODY;
});

const app = new Koa();
app.use(router.routes());
const server = app.listen(0, '127.0.0.1', () => {
  console.log((server.address() as AddressInfo).port);
});
