/**
 * Exit normally on SIGTERM and SIGINT (instead of dying of the signal), so that `node --cpu-prof`
 * writes its profile. For the baseline servers.
 */
export function exitOnSignals(): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));
}
