import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout. Secrets never reach a log line: the redact list is a safety net. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'cacheplane-operator' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['password', '*.password', 'values', '*.values', 'authorization', '*.authorization'] },
    },
    destination,
  );
}
