import test from 'ava';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

test('defaults describe the embedded mode', (t) => {
  const config = loadConfig({});
  t.is(config.redis, undefined);
  t.is(config.server.grpcPort, 50051);
  t.is(config.server.httpPort, 8080);
  t.is(config.cache.defaultTtlMs, 3_600_000);
  t.is(config.cache.maxValueBytes, 1024 * 1024);
  t.is(config.cache.evictionPolicy, 'lru');
});

test('durations, booleans and lists are parsed', (t) => {
  const config = loadConfig({
    REDIS_ADDRESSES: '127.0.0.1:7000, 127.0.0.1:7001',
    REDIS_CLUSTER_MODE: 'TRUE',
    REDIS_READ_TIMEOUT: '300ms',
    REDIS_WRITE_TIMEOUT: '1s',
    REDIS_BREAKER_TIMEOUT: '1m30s',
  });
  t.deepEqual(config.redis?.addresses, ['127.0.0.1:7000', '127.0.0.1:7001']);
  t.true(config.redis?.clusterMode);
  t.is(config.redis?.commandTimeoutMs, 1000);
  t.is(config.redis?.breaker.openTimeoutMs, 90_000);
});

test('every bad value is reported on its own line', (t) => {
  const error = t.throws(
    () =>
      loadConfig({
        SERVER_GRPC_PORT: '99999',
        REDIS_READ_TIMEOUT: 'soon',
        CACHE_EVICTION_POLICY: 'fifo',
        REDIS_CLUSTER_MODE: 'maybe',
      }),
    { instanceOf: ConfigError },
  );
  t.is(error.problems.length, 4);
  t.regex(error.message, /SERVER_GRPC_PORT="99999": must be at most 65535/);
  t.regex(error.message, /REDIS_READ_TIMEOUT="soon": expected a duration/);
  t.regex(error.message, /CACHE_EVICTION_POLICY="fifo": expected lru or lfu/);
  t.regex(error.message, /REDIS_CLUSTER_MODE="maybe": expected true or false/);
});

test('production refuses to run without a JWT secret', (t) => {
  const error = t.throws(() => loadConfig({ NODE_ENV: 'production' }), { instanceOf: ConfigError });
  t.regex(error.message, /AUTH_JWT_SECRET: required when NODE_ENV=production/);
});

test('the local cache cannot be disabled without Redis', (t) => {
  t.throws(() => loadConfig({ CACHE_LOCAL_CACHE_ENABLED: 'false' }), { message: /only store/ });
});

test('malformed Redis addresses are refused', (t) => {
  t.throws(() => loadConfig({ REDIS_ADDRESSES: 'localhost' }), {
    message: /neither host:port nor a redis:\/\/ URL/,
  });
});
