import type { StopReason } from '../errors.js';
import type { RestartRecord } from '../events.js';
import type { RestartType } from '../options.js';
import type { StewardNode } from './StewardNode.js';

/** Kinds of steward children. */
export const CELL = 0;
export const STEWARD = 1;

/** What a steward keeps about one child's restarts (kept with the child, across incarnations). */
export class ChildRecord {
  /** Times of this child's restarts still inside its window (per-child limits and backoff). */
  times: number[] = [];
  /** The newest restarts, oldest first (at most {@link HISTORY_LENGTH}). */
  history: RestartRecord[] = [];

  add(record: RestartRecord): void {
    this.history.push(record);
    if (this.history.length > HISTORY_LENGTH) this.history.shift();
  }

  /** Forget restarts `withinMs` or more before `now`; returns how many remain. */
  prune(now: number, withinMs: number): number {
    const since = now - withinMs;
    let drop = 0;
    while (drop < this.times.length && (this.times[drop] as number) <= since) drop++;
    if (drop > 0) this.times.splice(0, drop);
    return this.times.length;
  }
}

export const HISTORY_LENGTH = 32;

/**
 * A child of a steward: an actor's owner loop or a nested steward. A restart ends the current
 * incarnation ({@link terminate}) and starts the next ({@link reincarnate}); the id, the ref and
 * the queued messages stay.
 */
export interface Supervised {
  readonly kind: typeof CELL | typeof STEWARD;
  readonly id: string;
  /** The actor type's name, or `steward`. */
  readonly typeName: string;
  parent: StewardNode | null;
  readonly restartType: RestartType;
  readonly incarnation: number;
  readonly record: ChildRecord;
  /** Stopped for good. */
  readonly gone: boolean;
  /** Its neighbours in its steward's list of children (see Children), or null. */
  prevSibling: Supervised | null;
  nextSibling: Supervised | null;
  /** End the current incarnation and stay down until {@link reincarnate}. Idempotent. */
  terminate(reason: StopReason, cause: Error | null): Promise<void>;
  /** Start the next incarnation (after {@link terminate}). */
  reincarnate(): void;
  /** Stop for good. */
  stopFor(reason: StopReason, cause: Error | null): Promise<void>;
}
