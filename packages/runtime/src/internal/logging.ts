import pino from 'pino';
import pretty from 'pino-pretty';

/** The service's pino logger and a way to flush it before the process exits. */
export interface ServiceLogger {
  readonly logger: pino.Logger;
  flush(): void;
}

/**
 * JSON lines to stdout by default (asynchronous writes, flushed on exit); human-readable lines
 * when `pretty` (the default when stdout is a terminal).
 */
export function createLogger(name: string, level: string, prettyOutput: boolean): ServiceLogger {
  const options: pino.LoggerOptions = { name, level, base: { pid: process.pid } };
  if (prettyOutput) {
    const stream = pretty({ colorize: process.stdout.isTTY === true, sync: true, ignore: 'pid,hostname' });
    return { logger: pino(options, stream), flush: () => {} };
  }
  const dest = pino.destination({ dest: 1, sync: false, minLength: 0 });
  return {
    logger: pino(options, dest),
    flush: () => {
      try {
        dest.flushSync();
      } catch {
        // Nothing buffered, or stdout already closed: nothing left to save.
      }
    },
  };
}
