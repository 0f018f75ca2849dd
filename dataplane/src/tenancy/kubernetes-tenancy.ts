import type { Authorizer } from '../auth/authorizer.ts';
import { AccessListAuthorizer } from './access-list-authorizer.ts';
import { NamespaceRegistry, type NamespaceChange } from './namespace-registry.ts';
import type { NamespaceConfigSnapshot, NamespaceConfigSource } from './namespace-source.ts';
import { TenantRouter } from './tenant-router.ts';
import type { TenantSettings } from './tenant.ts';

export interface KubernetesTenancyOptions {
  source: NamespaceConfigSource;
  /** What the source reads, for the start error: `ConfigMap a/b and Secret a/c`. */
  sourceDescription: string;
  settings: TenantSettings;
}

/** NAMESPACES_SOURCE=kubernetes, running: the served namespaces and what enforces them. */
export interface KubernetesTenancy {
  router: TenantRouter;
  authorizer: Authorizer;
  registry: NamespaceRegistry;
  /**
   * Stops watching, then closes every namespace's stack after a last replay of its pending writes;
   * resolves with the writes still pending.
   */
  close(): Promise<number>;
}

/**
 * Starts the source and applies its first snapshot, with every namespace's stack built, before
 * resolving; from then on applies each new snapshot live. Rejects when the first snapshot cannot
 * be read: the data plane must not serve without its namespaces.
 */
export async function startKubernetesTenancy(options: KubernetesTenancyOptions): Promise<KubernetesTenancy> {
  const { source, settings } = options;
  const logger = settings.logger;
  const registry = new NamespaceRegistry();
  const router = new TenantRouter(settings);
  registry.onChange((changes) => {
    logger.info(describeChanges(changes), 'namespace configuration changed');
    router.apply(changes);
  });
  const apply = (snapshot: NamespaceConfigSnapshot): void => {
    for (const { key, namespace, problem, keptPrevious } of registry.apply(snapshot).problems) {
      logger.error(
        { key, namespace, keptPrevious },
        `${problem} (${keptPrevious ? 'the previous entry stays in effect' : 'the namespace is not served'})`,
      );
    }
  };

  // The source calls back only after the first snapshot, but a change seen before it is applied
  // must not be overtaken by it.
  let started = false;
  let early: NamespaceConfigSnapshot | undefined;
  let first: NamespaceConfigSnapshot;
  try {
    first = await source.start((snapshot) => {
      if (started) apply(snapshot);
      else early = snapshot;
    });
  } catch (error) {
    await source.close().catch(() => {});
    throw new Error(
      `cannot read the namespace configuration (${options.sourceDescription}): ${(error as Error).message}`,
      { cause: error },
    );
  }
  apply(first);
  started = true;
  if (early !== undefined) apply(early);
  await router.settled();
  router.markReady();
  logger.info({ namespaces: registry.namespaces() }, 'namespace configuration loaded');

  return {
    router,
    authorizer: new AccessListAuthorizer((namespace) => registry.get(namespace)?.entry.access),
    registry,
    close: async () => {
      await source.close();
      return router.close();
    },
  };
}

function describeChanges(changes: readonly NamespaceChange[]): Record<string, string[]> {
  const of = (kind: NamespaceChange['kind']) =>
    changes.filter((change) => change.kind === kind).map((change) => change.namespace);
  return { added: of('added'), changed: of('changed'), removed: of('removed') };
}
