import { randomBytes } from 'node:crypto';
import test from 'ava';
import { NAMESPACE, batchPath, keyPath, startRestHarness } from './rest-harness.ts';

test('PUT then GET returns the value with its source, expiry and encoding', async (t) => {
  const api = await startRestHarness(t);
  const before = Date.now();
  const put = await api.request('PUT', keyPath('greeting'), { body: { value: 'héllo ☃', ttlSeconds: 60 } });
  t.is(put.status, 200);
  t.deepEqual(put.json, { success: true, degraded: false });

  const get = await api.request('GET', keyPath('greeting'));
  t.is(get.status, 200);
  t.regex(get.headers.get('content-type') ?? '', /^application\/json/);
  const { expiresAt, ...rest } = get.json as { expiresAt: string };
  t.deepEqual(rest, { found: true, value: 'héllo ☃', encoding: 'utf8', source: 'redis', degraded: false });
  const expiry = Date.parse(expiresAt);
  t.true(expiry >= before + 60_000 && expiry <= Date.now() + 60_000);
  t.is(new Date(expiry).toISOString(), expiresAt);
});

test('the TTL reaches the service in milliseconds, with the encrypt flag', async (t) => {
  const api = await startRestHarness(t);
  await api.request('PUT', keyPath('k'), { body: { value: 'v', ttlSeconds: 42, encrypt: false } });
  t.deepEqual(api.cache.calls.at(-1)?.opts, { ttlMs: 42_000, encrypt: false });
  await api.request('PUT', keyPath('k'), { body: { value: 'v' } });
  t.deepEqual(api.cache.calls.at(-1)?.opts, { ttlMs: undefined, encrypt: undefined });
});

test('a degraded read reports the local source', async (t) => {
  const api = await startRestHarness(t);
  await api.request('PUT', keyPath('k'), { body: { value: 'v' } });
  api.cache.degraded = true;
  const get = await api.request('GET', keyPath('k'));
  t.like(get.json, { source: 'local', degraded: true });
  const put = await api.request('PUT', keyPath('k'), { body: { value: 'w' } });
  t.deepEqual(put.json, { success: true, degraded: true });
});

test('DELETE says whether there was something to delete', async (t) => {
  const api = await startRestHarness(t);
  await api.request('PUT', keyPath('k'), { body: { value: 'v' } });
  const first = await api.request('DELETE', keyPath('k'));
  t.is(first.status, 200);
  t.deepEqual(first.json, { deleted: true, degraded: false });
  const second = await api.request('DELETE', keyPath('k'));
  t.deepEqual(second.json, { deleted: false, degraded: false });
  t.is((await api.request('GET', keyPath('k'))).status, 404);
});

test('a DELETE body is ignored, whatever it holds', async (t) => {
  const api = await startRestHarness(t);
  await api.request('PUT', keyPath('k'), { body: { value: 'v' } });
  const response = await api.request('DELETE', keyPath('k'), {
    body: '{not json',
    headers: { 'content-type': 'text/plain' },
  });
  t.is(response.status, 200);
  t.deepEqual(response.json, { deleted: true, degraded: false });
});

test('arbitrary bytes round-trip through base64; valid UTF-8 comes back as text unless base64 is asked for', async (t) => {
  const api = await startRestHarness(t);
  const binary = Buffer.from([0xff, 0x00, 0xfe, 0x80, 0xc3]);
  await api.request('PUT', keyPath('bin'), {
    body: { value: binary.toString('base64'), encoding: 'base64' },
  });
  t.deepEqual(api.cache.peek(NAMESPACE, 'bin'), binary);
  t.like((await api.request('GET', keyPath('bin'))).json, {
    value: binary.toString('base64'),
    encoding: 'base64',
  });

  const text = Buffer.from('\uFEFFbom and ünïcödé 🎉', 'utf8');
  await api.request('PUT', keyPath('text'), { body: { value: text.toString('base64'), encoding: 'base64' } });
  t.like((await api.request('GET', keyPath('text'))).json, {
    value: '\uFEFFbom and ünïcödé 🎉',
    encoding: 'utf8',
  });
  t.like((await api.request('GET', `${keyPath('text')}?encoding=base64`)).json, {
    value: text.toString('base64'),
    encoding: 'base64',
  });
  t.like((await api.request('GET', `${keyPath('text')}?encoding=utf8`)).json, { encoding: 'utf8' });
  t.like((await api.request('GET', `${keyPath('bin')}?encoding=utf8`)).json, { encoding: 'base64' });
});

test('random bytes survive a PUT and GET in base64 unchanged', async (t) => {
  const api = await startRestHarness(t);
  for (let size = 0; size < 64; size += 7) {
    const bytes = randomBytes(size);
    await api.request('PUT', keyPath(`r${size}`), {
      body: { value: bytes.toString('base64'), encoding: 'base64' },
    });
    const { value } = (await api.request('GET', `${keyPath(`r${size}`)}?encoding=base64`)).json as {
      value: string;
    };
    t.deepEqual(Buffer.from(value, 'base64'), bytes);
  }
});

test('keys with "/", "%", spaces, unicode and route-like words round-trip through URL encoding', async (t) => {
  const api = await startRestHarness(t);
  const keys = [
    'a/b/c',
    '100%',
    '%25',
    'with space',
    'ключ🔑',
    'batch',
    'batch/get',
    'batch/set',
    'trailing/',
    '?#&=+',
    '.dot',
  ];
  for (const key of keys) {
    const put = await api.request('PUT', keyPath(key), { body: { value: `value of ${key}` } });
    t.is(put.status, 200, key);
    t.is(api.cache.calls.at(-1)?.keys[0], key, 'decoded exactly once');
    t.like((await api.request('GET', keyPath(key))).json, { value: `value of ${key}` }, key);
  }
  t.like(
    (await api.request('GET', `/api/v1/cache/${NAMESPACE}/a/b/c`)).json,
    { value: 'value of a/b/c' },
    'literal slashes',
  );
  t.like((await api.request('DELETE', keyPath('batch/get'))).json, { deleted: true });
});

test('batch set then batch get: found, missing and forced base64', async (t) => {
  const api = await startRestHarness(t);
  const set = await api.request('POST', batchPath('set'), {
    body: {
      entries: { 'user:1': { value: 'Ada' }, 'user:2': { value: '/wD+', encoding: 'base64' } },
      ttlSeconds: 30,
    },
  });
  t.is(set.status, 200);
  t.deepEqual(set.json, { success: true, storedCount: 2, degraded: false });
  t.deepEqual(api.cache.calls.at(-1)?.opts, { ttlMs: 30_000, encrypt: undefined });
  t.deepEqual(api.cache.peek(NAMESPACE, 'user:2'), Buffer.from([0xff, 0x00, 0xfe]));

  const get = await api.request('POST', batchPath('get'), { body: { keys: ['user:1', 'user:2', 'user:3'] } });
  t.is(get.status, 200);
  t.deepEqual(get.json, {
    values: { 'user:1': { value: 'Ada', encoding: 'utf8' }, 'user:2': { value: '/wD+', encoding: 'base64' } },
    missingKeys: ['user:3'],
    unavailableKeys: [],
    degraded: false,
  });

  const forced = await api.request('POST', batchPath('get'), {
    body: { keys: ['user:1'], encoding: 'base64' },
  });
  t.like(forced.json, {
    values: { 'user:1': { value: Buffer.from('Ada').toString('base64'), encoding: 'base64' } },
  });
});

test('batch get reports unavailable keys while degraded', async (t) => {
  const api = await startRestHarness(t);
  api.cache.degraded = true;
  api.cache.unavailableKeys.add('gone');
  const get = await api.request('POST', batchPath('get'), { body: { keys: ['gone'] } });
  t.deepEqual(get.json, { values: {}, missingKeys: [], unavailableKeys: ['gone'], degraded: true });
});

test('batch keys named like object internals are plain keys', async (t) => {
  const api = await startRestHarness(t);
  await api.request('PUT', keyPath('constructor'), { body: { value: 'c' } });
  await api.request('PUT', keyPath('__proto__'), { body: { value: 'p' } });
  const get = await api.request('POST', batchPath('get'), {
    body: { keys: ['constructor', '__proto__', 'toString'] },
  });
  t.is(
    get.text,
    '{"values":{"constructor":{"value":"c","encoding":"utf8"},"__proto__":{"value":"p","encoding":"utf8"}},' +
      '"missingKeys":["toString"],"unavailableKeys":[],"degraded":false}',
  );
});

test('each cache request is counted once, with its result and the authorized namespace', async (t) => {
  const api = await startRestHarness(t);
  await api.request('PUT', keyPath('k'), { body: { value: 'v' } });
  await api.request('GET', keyPath('k'));
  await api.request('GET', keyPath('missing'));
  await api.request('DELETE', keyPath('k'));
  await api.request('POST', batchPath('get'), { body: { keys: ['k'] } });
  await api.request('POST', batchPath('set'), { body: { entries: { k: { value: 'v' } } } });
  await api.request('PUT', keyPath('k'), { body: { value: 'v', ttlSeconds: 0 } });
  await api.request('GET', keyPath('k'), { token: null });
  await api.request('GET', keyPath('k', 'someone-elses'));
  t.deepEqual(
    api.metrics.requests.map(({ operation, namespace, result }) => [operation, namespace, result]),
    [
      ['set', NAMESPACE, 'ok'],
      ['get', NAMESPACE, 'ok'],
      ['get', NAMESPACE, 'miss'],
      ['delete', NAMESPACE, 'ok'],
      ['batch_get', NAMESPACE, 'ok'],
      ['batch_set', NAMESPACE, 'ok'],
      ['set', NAMESPACE, 'TTL_INVALID'],
      ['get', '-', 'UNAUTHORIZED'],
      ['get', '-', 'FORBIDDEN'],
    ],
  );
  t.true(api.metrics.requests.every((request) => request.transport === 'rest'));
});

test('HEAD of a key answers like GET without a body', async (t) => {
  const api = await startRestHarness(t);
  await api.request('PUT', keyPath('k'), { body: { value: 'v' } });
  const head = await api.request('HEAD', keyPath('k'));
  t.is(head.status, 200);
  t.is(head.text, '');
  t.is((await api.request('HEAD', keyPath('missing'))).status, 404);
});
