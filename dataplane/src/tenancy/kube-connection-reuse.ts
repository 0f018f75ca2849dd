// client-node 2.0.1 builds a new undici Agent for every request (KubeConfig.createDispatcher,
// called by applySecurityAuthentication), so no connection is ever reused and nothing can close
// them. This keeps one Agent per distinct set of options, owned by the caller, who can drop them:
// undici speaks HTTP/2 to the API server, so all of an Agent's requests share one connection, and
// when that connection dies silently (a peer gone without a FIN) every request on it hangs until
// the Agent is destroyed. (The operator has the reuse part in operator/src/kube/connection-reuse.ts;
// the workspaces share no code.)
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';

type CreateDispatcher = (cluster: unknown, agentOptions: Record<string, unknown>) => unknown;

export interface SharedConnections {
  /** Use this one: it reads everything from the given KubeConfig but shares its connections. */
  readonly kubeConfig: KubeConfig;
  /** Destroys every Agent made so far (their requests fail); later requests get new ones. */
  drop(): Promise<void>;
}

export function shareConnections(kubeConfig: KubeConfig): SharedConnections {
  const create = (kubeConfig as unknown as { createDispatcher?: CreateDispatcher }).createDispatcher;
  if (typeof create !== 'function') return { kubeConfig, drop: () => Promise.resolve() }; // a client-node without it
  const dispatchers = new Map<string, unknown>();
  // A view of the caller's KubeConfig (its clusters, users and token refresh) with a
  // createDispatcher of its own, so that the caller's object is left as it was.
  const shared = Object.create(kubeConfig) as KubeConfig;
  const createShared: CreateDispatcher = (cluster, agentOptions) => {
    const key = createHash('sha256')
      .update(JSON.stringify([(cluster as { server?: string } | null)?.server, agentOptions]))
      .digest('hex');
    if (!dispatchers.has(key)) dispatchers.set(key, create.call(kubeConfig, cluster, agentOptions));
    return dispatchers.get(key);
  };
  (shared as unknown as { createDispatcher: CreateDispatcher }).createDispatcher = createShared;
  return {
    kubeConfig: shared,
    async drop() {
      const agents = [...dispatchers.values()];
      dispatchers.clear();
      await Promise.all(agents.map((agent) => destroy(agent)));
    },
  };
}

async function destroy(dispatcher: unknown): Promise<void> {
  const closable = dispatcher as { destroy?: () => Promise<void> } | undefined;
  if (typeof closable?.destroy !== 'function') return;
  await closable.destroy().catch(() => undefined);
}
