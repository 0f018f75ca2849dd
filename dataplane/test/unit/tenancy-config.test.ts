import test from 'ava';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

test('namespaces come from tokens by default (static)', (t) => {
  t.deepEqual(loadConfig({}).namespaces, { source: 'static' });
});

test('kubernetes: the ConfigMap and Secret default to the operator defaults', (t) => {
  t.deepEqual(loadConfig({ NAMESPACES_SOURCE: 'kubernetes' }).namespaces, {
    source: 'kubernetes',
    configMap: { namespace: 'cacheplane-system', name: 'cacheplane-namespaces' },
    credentialsSecret: { namespace: 'cacheplane-system', name: 'cacheplane-namespace-credentials' },
  });
});

test('kubernetes: both objects are <namespace>/<name>', (t) => {
  const config = loadConfig({
    NAMESPACES_SOURCE: 'kubernetes',
    NAMESPACES_CONFIGMAP: ' cache/entries.v1 ',
    NAMESPACES_CREDENTIALS_SECRET: 'cache/creds',
  });
  t.like(config.namespaces, {
    configMap: { namespace: 'cache', name: 'entries.v1' },
    credentialsSecret: { namespace: 'cache', name: 'creds' },
  });
});

const refused: Array<[Record<string, string>, RegExp]> = [
  [{ NAMESPACES_SOURCE: 'crd' }, /NAMESPACES_SOURCE="crd": expected static or kubernetes/],
  [
    { NAMESPACES_CONFIGMAP: 'cacheplane-namespaces' },
    /NAMESPACES_CONFIGMAP="cacheplane-namespaces": expected <namespace>\/<name>/,
  ],
  [{ NAMESPACES_CONFIGMAP: 'a/b/c' }, /NAMESPACES_CONFIGMAP="a\/b\/c": expected <namespace>\/<name>/],
  [
    { NAMESPACES_CREDENTIALS_SECRET: 'Cache/creds' },
    /NAMESPACES_CREDENTIALS_SECRET="Cache\/creds": expected/,
  ],
  [
    { NAMESPACES_CREDENTIALS_SECRET: 'cache/-creds' },
    /NAMESPACES_CREDENTIALS_SECRET="cache\/-creds": expected/,
  ],
  [{ NAMESPACES_CONFIGMAP: `a/${'b'.repeat(254)}` }, /NAMESPACES_CONFIGMAP=.*longer than 253/],
  [
    {
      NAMESPACES_SOURCE: 'kubernetes',
      NAMESPACES_CONFIGMAP: 'a/cm',
      NAMESPACES_CREDENTIALS_SECRET: 'b/secret',
    },
    /NAMESPACES_CREDENTIALS_SECRET: must be in the ConfigMap's namespace "a"/,
  ],
];

for (const [env, message] of refused) {
  test(`refused: ${JSON.stringify(env)}`, (t) => {
    const error = t.throws(() => loadConfig(env), { instanceOf: ConfigError });
    t.regex(error.message, message);
  });
}
