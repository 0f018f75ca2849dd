import { ConfigError, loadConfig, type Config } from './config/config.ts';
import { startDataPlane } from './data-plane.ts';
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

const config = readConfig();
const logger = createLogger(config.logLevel);
const dataPlane = await startDataPlane(config, logger);
logger.info({ httpPort: dataPlane.httpPort, grpcPort: dataPlane.grpcPort }, 'data plane listening');

if (dataPlane.devToken !== undefined) {
  logger.warn('AUTH_JWT_SECRET is not set: generated a secret for this process only (development)');
  process.stderr.write(
    `\nDevelopment token for namespace "default" (valid 24h):\n\n  ${dataPlane.devToken}\n\n` +
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
