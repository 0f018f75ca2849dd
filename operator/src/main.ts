// The operator process: configuration from the environment (config.ts), then the operator
// (operator.ts). SIGTERM/SIGINT: stop taking keys, finish the running passes, release the Lease,
// exit. A bad configuration exits with status 2 and one line per problem.
import { ConfigError, loadConfig, type OperatorConfig } from './config.ts';
import { createLogger } from './observability/logger.ts';
import { startOperator } from './operator.ts';

async function main(): Promise<void> {
  let config: OperatorConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  const log = createLogger(config.logLevel);
  let stopping = false;
  const operator: { stop?: () => Promise<void> } = {};
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const hardStop = setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    hardStop.unref();
    void (operator.stop?.() ?? Promise.resolve()).then(() => {
      log.info({}, 'stopped');
      // Keep-alive sockets of the Kubernetes client would keep the process up a while longer.
      process.exit(0);
    });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  const running = await startOperator(config, log);
  operator.stop = () => running.stop();
}

await main();
