// The REST baseline: a bare Koa app with the data plane's route shape that answers constant JSON
// (no auth, no body parsing, no store). Prints its port on stdout.
import Router from '@koa/router';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { VALUE } from './constants.ts';

const KEY_ROUTE = '/api/v1/cache/:namespace/*key';
const GET_BODY = { found: true, value: VALUE, encoding: 'utf8', source: 'local', degraded: false };
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
