/**
 * Somewhere other than the calling thread where actors' turns run: a pool of worker threads
 * (`createWorkerHost` in `@holdfast/workers`). Pass one to `system.spawn(Type, { host })` for an
 * actor type that runs on a host; the system closes every host its actors used when it shuts
 * down.
 *
 * @example
 * ```ts
 * const host = createWorkerHost({ threads: 2 });
 * const hasher = system.spawn(Hasher, { id: 'h1', host });
 * await system.shutdown(); // also closes `host`
 * ```
 */
export interface ActorHost {
  /** The host's name, in summaries, logs and errors. */
  readonly name: string;
  /** Where the actor's turns run now (for example `workers#2`), for `system.actors()` and the REPL. */
  describe?(actorId: string): string;
  /** Release the host's resources (threads); called by `system.shutdown()` after its actors stopped. */
  close(): Promise<void>;
  /** How many of its units (threads) are up and serving now, and how many were replaced so far (for metrics). */
  health?(): { readonly up: number; readonly replaced: number };
}
