// client-node 2.0.1 builds a new undici Agent for every request (KubeConfig.createDispatcher, called
// by applySecurityAuthentication), so no connection is ever reused: each API call pays a TCP and
// TLS handshake (measured: most of the operator's CPU under load). This keeps one Agent per
// distinct set of options for a KubeConfig, so calls share kept-alive connections.
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';

type CreateDispatcher = (cluster: unknown, agentOptions: Record<string, unknown>) => unknown;

export function withConnectionReuse(kubeConfig: KubeConfig): KubeConfig {
  const target = kubeConfig as unknown as { createDispatcher?: CreateDispatcher };
  const create = target.createDispatcher;
  if (typeof create !== 'function') return kubeConfig; // a client-node that no longer has it
  const dispatchers = new Map<string, unknown>();
  target.createDispatcher = (cluster, agentOptions) => {
    const key = createHash('sha256')
      .update(JSON.stringify([(cluster as { server?: string } | null)?.server, agentOptions]))
      .digest('hex');
    if (!dispatchers.has(key)) dispatchers.set(key, create.call(kubeConfig, cluster, agentOptions));
    return dispatchers.get(key);
  };
  return kubeConfig;
}
