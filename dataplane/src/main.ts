import { ConfigError, loadConfig, type Config } from './config/config.ts';
import { startDataPlane, type DataPlane } from './data-plane.ts';
import { createLogger } from './observability/logger.ts';

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`cacheplane: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

async function start(): Promise<DataPlane> {
  try {
    return await startDataPlane(config, logger);
  } catch (error) {
    // Most likely the namespace configuration could not be read (NAMESPACES_SOURCE=kubernetes).
    logger.fatal({ err: error }, `data plane not started: ${(error as Error).message}`);
    process.exit(1);
  }
}

const config = readConfig();
const logger = createLogger(config.logLevel);
const dataPlane = await start();
logger.info(
  { httpPort: dataPlane.httpPort, grpcPort: dataPlane.grpcPort, namespacesSource: config.namespaces.source },
  'data plane listening',
);

if (dataPlane.devToken !== undefined) {
  logger.warn('AUTH_JWT_SECRET is not set: generated a secret for this process only (development)');
  const scope =
    config.namespaces.source === 'static'
      ? 'for namespace "default"'
      : 'of subject "dev", allowed where a namespace\'s access list names it';
  process.stderr.write(
    `\nDevelopment token ${scope} (valid 24h):\n\n  ${dataPlane.devToken}\n\n` +
      `Try:\n  curl -X PUT -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\\n` +
      `    -d '{"value":"hello"}' http://localhost:${dataPlane.httpPort}/api/v1/cache/default/greeting\n\n`,
  );
}

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining REST and gRPC');
    dataPlane.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
