// The Redis commands a namespace's ACL user is allowed: exactly what the data plane sends, through
// ioredis 6, as that user. Derived from the code and checked against real Redis (standalone and
// cluster, with MONITOR and ACL LOG) by operator/test/integration/redis-acl.test.ts, which runs the
// data plane's own RedisStore as the user.
//
// What the data plane sends (dataplane/src/redis/redis-store.ts, connect.ts):
//   get, set (with PX), del ............ RedisStore.get / set / setMany (pipelined SETs) / delete
//   mget ............................... RedisStore.getMany (one MGET per hash slot)
//   evalsha, eval ...................... the two Lua scripts (defineCommand): ioredis sends EVAL the
//                                        first time on each connection, EVALSHA after; never
//                                        SCRIPT LOAD. Inside the scripts Redis checks GET/SET/DEL and
//                                        their keys against the same ACL.
//   ping ............................... RedisStore.ping (health)
// What ioredis sends by itself when it connects:
//   hello (with AUTH), auth, quit ...... need no permission (Redis exempts them from ACL checks)
//   info ............................... the ready check (enableReadyCheck, on by default); without
//                                        it ioredis prints a warning on every connection
//   select ............................. only when REDIS_DB is not 0 (standalone); without it the
//                                        SELECT fails and the client silently stays on database 0.
//                                        Redis ACLs cannot restrict databases: the user may select any.
// In Redis Cluster mode (ioredis Cluster with scaleReads 'master'):
//   cluster|slots ...................... topology refresh
//   cluster|info ....................... the cluster's ready check (cluster_state)
//   client|setname ..................... the refresh connection names itself "ioredis-cluster(refresher)"
//   asking ............................. sent before a command redirected with -ASK (slot migration)
//   readonly, readwrite ................ sent to a node whose role changed (failover)
// Deliberately left out: client|setinfo (Redis >= 7.2 only, and unknown to ACL SETUSER on 7.0:
// ioredis ignores its refusal; the data plane may set disableClientInfo), script|load, keys/scan,
// pub/sub (no channels at all), and everything that is not about the namespace's own keys.

export interface RedisTopology {
  mode: 'standalone' | 'cluster';
  /** The database the data plane uses (REDIS_DB); always 0 in cluster mode. */
  db: number;
}

const ALWAYS = ['get', 'mget', 'set', 'del', 'evalsha', 'eval', 'ping', 'info'] as const;
const CLUSTER = [
  'cluster|slots',
  'cluster|info',
  'client|setname',
  'asking',
  'readonly',
  'readwrite',
] as const;

/** The commands of a namespace's ACL user, in a stable order. */
export function dataPlaneCommands(topology: RedisTopology): string[] {
  if (topology.mode === 'cluster') return [...ALWAYS, ...CLUSTER];
  return topology.db === 0 ? [...ALWAYS] : [...ALWAYS, 'select'];
}
