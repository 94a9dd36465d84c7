/**
 * The logger interface core writes to. It is the subset of pino's API that Holdfast uses, so a
 * pino logger is a `Logger` as it is (see {@link fromPino}); core itself does not depend on pino.
 */
export interface Logger {
  trace(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  fatal(obj: object, msg?: string): void;
  /** A logger whose every line carries `bindings`. */
  child(bindings: Record<string, unknown>): Logger;
}

/**
 * The shape of a pino logger that {@link fromPino} accepts: pino's own methods, which is exactly
 * the {@link Logger} interface.
 */
export type PinoLike = Logger;

/**
 * Use a pino logger as the system's logger. Every line from `ctx.log` then carries the actor's
 * `actor`, `type`, `incarnation` and `message` fields.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * const system = createSystem({ name: 'app', logger: fromPino(pino()) });
 * ```
 */
export function fromPino(logger: PinoLike): Logger {
  return logger;
}

const noop = () => {};

/** A logger that drops everything (the default). */
export const silentLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
  child: () => silentLogger,
};
