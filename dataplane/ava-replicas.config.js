// Multi-replica tests: each file runs two data-plane processes, Redis and a JVM or Erlang broker.
// They run after the rest of the suite, one file at a time, so that on a 2-core machine the
// staleness windows they assert measure the system, not CPU starvation.
export default {
  files: ['test/replicas/**/*.test.ts'],
  extensions: { ts: 'module' },
  timeout: '3m',
  workerThreads: false,
  concurrency: 1,
};
