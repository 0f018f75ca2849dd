// CLUSTER NODES, read: every node of a Redis Cluster, primaries and replicas, with or without
// slots. (ioredis's `cluster.nodes('all')` only knows nodes that CLUSTER SLOTS lists, which leaves
// out a primary without slots, e.g. one just added; ACL users must reach it too.)

export interface ClusterNode {
  id: string;
  /** As the cluster announces it (what clients, the data plane included, connect to). */
  host: string;
  port: number;
  /** `host:port` (`[v6]:port`), for messages and as a key. */
  address: string;
  role: 'primary' | 'replica';
  /** Flagged `fail`/`fail?`: believed down. Still a node whose ACLs must be right when it returns. */
  failing: boolean;
}

/**
 * Parses CLUSTER NODES output. Lines without a usable address (`noaddr`, `handshake`, port 0) are
 * skipped: there is nothing to connect to yet.
 */
export function parseClusterNodes(output: string): ClusterNode[] {
  const nodes: ClusterNode[] = [];
  for (const line of output.split('\n')) {
    const [id, endpoint, flagList] = line.trim().split(' ');
    if (id === undefined || id === '' || endpoint === undefined || flagList === undefined) continue;
    const flags = flagList.split(',');
    if (flags.includes('noaddr') || flags.includes('handshake')) continue;
    // ip:port@cport[,hostname]; IPv6 addresses come without brackets.
    const hostPort = endpoint.split('@')[0] ?? '';
    const separator = hostPort.lastIndexOf(':');
    const host = hostPort.slice(0, separator);
    const port = Number(hostPort.slice(separator + 1));
    if (separator <= 0 || !Number.isInteger(port) || port <= 0) continue;
    nodes.push({
      id,
      host,
      port,
      address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
      role: flags.includes('master') ? 'primary' : 'replica',
      failing: flags.includes('fail') || flags.includes('fail?'),
    });
  }
  return nodes;
}
