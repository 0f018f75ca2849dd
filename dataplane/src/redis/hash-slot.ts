import { createRequire } from 'node:module';

// cluster-key-slot ships no type declarations, hence the typed require.
const requireCommonJs = createRequire(import.meta.url);

/** The Redis Cluster hash slot of a key (CRC16, honouring `{hash tags}`). */
export const hashSlot = requireCommonJs('cluster-key-slot') as (key: string) => number;
