import test from 'ava';
import { ConfigError, loadConfig } from '../../src/config.ts';

const noPod = () => undefined;

test('defaults, with only the Redis addresses given', (t) => {
  const config = loadConfig({ OPERATOR_REDIS_ADDRESSES: '127.0.0.1:6379' }, noPod);
  t.deepEqual(config.settings, {
    aclUserPrefix: 'cacheplane',
    redis: { mode: 'standalone', db: 0 },
    dataPlaneConfig: { namespace: 'cacheplane-system', name: 'cacheplane-namespaces' },
    dataPlaneCredentials: { namespace: 'cacheplane-system', name: 'cacheplane-namespace-credentials' },
  });
  t.deepEqual(config.lease, {
    namespace: 'cacheplane-system',
    name: 'cacheplane-operator',
    durationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
  });
  t.is(config.resyncPeriodMs, 300_000);
  t.is(config.workers, 4);
  t.deepEqual(config.backoff, { baseMs: 100, maxMs: 60_000 });
  t.deepEqual(config.redis, {
    addresses: ['127.0.0.1:6379'],
    username: 'cacheplane-operator',
    password: undefined,
    tls: false,
    timeoutMs: 2000,
  });
  t.is(config.http.port, 8080);
  t.is(config.kubeconfig, undefined);
  t.regex(config.identity, /_[0-9a-f]{8}$/);
});

test("the data plane's credentials Secret: in the ConfigMap's namespace by default; elsewhere refused", (t) => {
  const base = { OPERATOR_REDIS_ADDRESSES: 'r:6379', OPERATOR_DATAPLANE_CONFIGMAP: 'ops/namespaces' };
  t.deepEqual(loadConfig(base, noPod).settings.dataPlaneCredentials, {
    namespace: 'ops',
    name: 'cacheplane-namespace-credentials',
  });
  t.deepEqual(
    loadConfig({ ...base, OPERATOR_DATAPLANE_SECRET: 'ops/credentials' }, noPod).settings
      .dataPlaneCredentials,
    { namespace: 'ops', name: 'credentials' },
  );
  const elsewhere = t.throws(
    () => loadConfig({ ...base, OPERATOR_DATAPLANE_SECRET: 'other/credentials' }, noPod),
    { instanceOf: ConfigError },
  );
  t.deepEqual(elsewhere.problems, [
    'OPERATOR_DATAPLANE_SECRET="other/credentials": must be in the namespace of OPERATOR_DATAPLANE_CONFIGMAP (the data plane reads both from its own namespace)',
  ]);
  const invalid = t.throws(() => loadConfig({ ...base, OPERATOR_DATAPLANE_SECRET: 'ops/Bad_Name' }, noPod), {
    instanceOf: ConfigError,
  });
  t.deepEqual(invalid.problems, [
    'OPERATOR_DATAPLANE_SECRET="ops/Bad_Name": expected namespace/name of a Secret',
  ]);
});

test("the pod's namespace is the Lease namespace in-cluster", (t) => {
  t.is(loadConfig({ OPERATOR_REDIS_ADDRESSES: 'r:6379' }, () => 'ops').lease.namespace, 'ops');
  t.is(
    loadConfig({ OPERATOR_REDIS_ADDRESSES: 'r:6379', OPERATOR_LEASE_NAMESPACE: 'elsewhere' }, () => 'ops')
      .lease.namespace,
    'elsewhere',
  );
});

test('every bad value is reported on its own line, naming the variable', (t) => {
  const error = t.throws(
    () =>
      loadConfig(
        {
          OPERATOR_REDIS_CLUSTER_MODE: 'maybe',
          OPERATOR_RESYNC_PERIOD: '5 minutes',
          OPERATOR_DATAPLANE_CONFIGMAP: 'no-slash',
          OPERATOR_DATAPLANE_SECRET: 'a/b/c',
          OPERATOR_HTTP_PORT: '70000',
          OPERATOR_WORKERS: '0',
          OPERATOR_REDIS_PASSWORD: '',
        },
        noPod,
      ),
    { instanceOf: ConfigError },
  );
  t.deepEqual(
    error.problems.map((problem) => problem.split('=')[0]),
    [
      'OPERATOR_REDIS_ADDRESSES',
      'OPERATOR_REDIS_CLUSTER_MODE',
      'OPERATOR_DATAPLANE_CONFIGMAP',
      'OPERATOR_DATAPLANE_SECRET',
      'OPERATOR_RESYNC_PERIOD',
      'OPERATOR_WORKERS',
      'OPERATOR_HTTP_PORT',
    ],
  );
  t.regex(error.message, /OPERATOR_REDIS_CLUSTER_MODE="maybe": expected true or false/);
});

test('cross-field rules: lease timings, cluster database, addresses', (t) => {
  const error = t.throws(
    () =>
      loadConfig(
        {
          OPERATOR_REDIS_ADDRESSES: 'host-without-port,redis://ok:1',
          OPERATOR_REDIS_CLUSTER_MODE: 'true',
          OPERATOR_DATAPLANE_REDIS_DB: '2',
          OPERATOR_LEASE_DURATION: '10s',
          OPERATOR_LEASE_RENEW_DEADLINE: '10s',
          OPERATOR_LEASE_RETRY_PERIOD: '12s',
        },
        noPod,
      ),
    { instanceOf: ConfigError },
  );
  t.deepEqual(error.problems, [
    'OPERATOR_REDIS_ADDRESSES: "host-without-port" is neither host:port nor a redis:// URL',
    'OPERATOR_DATAPLANE_REDIS_DB=2: Redis Cluster has only database 0',
    'OPERATOR_LEASE_RENEW_DEADLINE: must be shorter than OPERATOR_LEASE_DURATION (a leader must stop before its Lease can be taken)',
    'OPERATOR_LEASE_RETRY_PERIOD: must be shorter than OPERATOR_LEASE_RENEW_DEADLINE',
  ]);
});
