import pino from 'pino';
import pretty from 'pino-pretty';

/** The service's pino logger and a way to write out everything it holds before the process exits. */
export interface ServiceLogger {
  readonly logger: pino.Logger;
  /**
   * Resolves once every line logged so far has been written (waiting at most 10 s for a slow
   * reader). Call it last: the destination is closed (stdout itself stays open).
   */
  close(): Promise<void>;
}

/** How long closing the logs may wait for a slow reader of stdout before the process exits anyway. */
const CLOSE_TIMEOUT_MS = 10_000;

/**
 * JSON lines to stdout by default (asynchronous writes, written out on exit); human-readable
 * lines when `pretty` (the default when stdout is a terminal).
 */
export function createLogger(name: string, level: string, prettyOutput: boolean): ServiceLogger {
  const options: pino.LoggerOptions = { name, level, base: { pid: process.pid } };
  if (prettyOutput) {
    const stream = pretty({ colorize: process.stdout.isTTY === true, sync: true, ignore: 'pid,hostname' });
    return { logger: pino(options, stream), close: () => Promise.resolve() };
  }
  const dest = pino.destination({ dest: 1, sync: false, minLength: 0 });
  return {
    logger: pino(options, dest),
    // Not flushSync(): with a write in progress it writes the rest first, so the last lines
    // came out before the one being written (seen as a drain log ending with "draining").
    // end() waits for the write in progress, then writes the rest in order.
    close: () =>
      new Promise<void>((resolve) => {
        if ((dest as { destroyed?: boolean }).destroyed === true) {
          resolve();
          return;
        }
        const timer = setTimeout(() => {
          // Not flushSync(): with a write in progress it loses or reorders lines. Say so instead.
          process.stderr.write(`holdfast: stdout took more than ${CLOSE_TIMEOUT_MS} ms to take the last log lines; exiting without them\n`);
          resolve();
        }, CLOSE_TIMEOUT_MS);
        dest.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        dest.end();
      }),
  };
}
