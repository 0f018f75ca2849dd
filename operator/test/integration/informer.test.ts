// The Informer wrapper against a real API server: it recovers when the API refuses it for a while
// (client-node's ListWatch stops on such errors; the wrapper restarts it with backoff), it
// reconnects a watch that went quiet, and resync hands every cached object over again.
import test from 'ava';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { Informer } from '../../src/controller/informer.ts';
import { ensureNamespace, startKubeEnv, type KubeEnv } from '../support/kube-env.ts';
import { waitFor } from '../support/operator-world.ts';

const NAMESPACE = 'watched';

test.before(async (t) => {
  const kube = await startKubeEnv();
  t.context = kube;
  await ensureNamespace(kube, NAMESPACE);
});

test.after.always(async (t) => {
  await (t.context as KubeEnv | undefined)?.stop();
});

/** A ServiceAccount that may list and watch ConfigMaps in NAMESPACE while its RoleBinding exists. */
async function watcherKubeConfig(kube: KubeEnv): Promise<KubeConfig> {
  const core = kube.kubeConfig.makeApiClient(CoreV1Api);
  const rbac = kube.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({
    namespace: NAMESPACE,
    body: { metadata: { name: 'watcher' } },
  });
  await rbac.createNamespacedRole({
    namespace: NAMESPACE,
    body: {
      metadata: { name: 'watcher' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] }],
    },
  });
  const token = await core.createNamespacedServiceAccountToken({
    namespace: NAMESPACE,
    name: 'watcher',
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = kube.kubeConfig.getCurrentCluster();
  if (cluster === null) throw new Error('no cluster');
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'watcher', token: token.status?.token ?? '' }],
    contexts: [{ name: 'watcher', cluster: cluster.name, user: 'watcher' }],
    currentContext: 'watcher',
  });
  return config;
}

async function bind(kube: KubeEnv): Promise<void> {
  await kube.kubeConfig.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
    namespace: NAMESPACE,
    body: {
      metadata: { name: 'watcher' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'watcher' },
      subjects: [{ kind: 'ServiceAccount', name: 'watcher', namespace: NAMESPACE }],
    },
  });
}

async function unbind(kube: KubeEnv): Promise<void> {
  await kube.kubeConfig
    .makeApiClient(RbacAuthorizationV1Api)
    .deleteNamespacedRoleBinding({ namespace: NAMESPACE, name: 'watcher' });
}

async function createConfigMap(kube: KubeEnv, name: string): Promise<void> {
  await kube.core.createNamespacedConfigMap({
    namespace: NAMESPACE,
    body: { metadata: { name }, data: { a: '1' } },
  });
}

test.serial('an informer refused by the API server is restarted with backoff and catches up', async (t) => {
  const kube = t.context as KubeEnv;
  const kubeConfig = await watcherKubeConfig(kube);
  await bind(kube);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const errors: unknown[] = [];
  const warnings: string[] = [];
  const added: string[] = [];
  const resynced: string[] = [];
  const informer = new Informer<V1ConfigMap>({
    name: 'configmaps',
    kubeConfig,
    path: `/api/v1/namespaces/${NAMESPACE}/configmaps`,
    list: () => core.listNamespacedConfigMap({ namespace: NAMESPACE }),
    resyncPeriodMs: 60_000,
    // A quiet watch is dropped and made again after this long: the next attempt meets the 403.
    watchTimeoutMs: 500,
    restartBackoff: { initialMs: 100, maxMs: 400 },
    log: { info: () => {}, warn: (_fields, message) => warnings.push(message) },
    onError: (error) => errors.push(error),
  });
  informer.addHandlers({
    added: (object) => added.push(object.metadata?.name ?? ''),
    resync: (object) => resynced.push(object.metadata?.name ?? ''),
  });
  try {
    await createConfigMap(kube, 'before');
    await informer.start();
    t.true(informer.synced);
    t.deepEqual(added, ['before']);

    await createConfigMap(kube, 'watched-live');
    await waitFor('a watch event', () => added.includes('watched-live'), 5000);

    await unbind(kube);
    await waitFor('the informer to fail and be restarted', () => errors.length >= 2, 10_000);
    t.true(warnings.every((message) => message === 'informer stopped on an error; restarting'));
    await createConfigMap(kube, 'while-refused');
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.false(added.includes('while-refused'));

    await bind(kube);
    await waitFor('the informer to catch up', () => added.includes('while-refused'), 10_000);
    for (const name of ['before', 'watched-live', 'while-refused']) {
      t.is(added.filter((added) => added === name).length, 1, `${name} added once`);
    }
    t.is(informer.get('while-refused', NAMESPACE)?.data?.['a'], '1');

    informer.resyncNow();
    t.deepEqual(
      resynced.sort(),
      informer
        .list()
        .map((object) => object.metadata?.name ?? '')
        .sort(),
    );
  } finally {
    await informer.stop();
  }
});
