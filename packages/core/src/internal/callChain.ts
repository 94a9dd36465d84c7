import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The turn that is running now, for the call chain of asks (DEADLOCK detection) and for telling
 * in-flight work apart from outside callers while the system drains.
 *
 * Two sources, cheapest first:
 * - `syncTurn` is set while a handler runs synchronously, which covers sync handlers and the part
 *   of an async handler before its first `await`, at the cost of two assignments per turn.
 * - AsyncLocalStorage carries the turn across `await`s in async handlers. On Node 20 and 22,
 *   turning an AsyncLocalStorage on installs promise hooks that roughly double the cost of every
 *   promise in the process, so it is only turned on by the first async turn (an app whose
 *   handlers are all synchronous never pays for it).
 */
export interface ChainTurn {
  /** The actor's id (for the DEADLOCK message). */
  readonly actorId: string;
  /** The owner of the turn: compared by identity. */
  readonly owner: object;
  /** True once the turn has ended. */
  readonly done: boolean;
  /** The turn that sent the ask this turn serves, or null (a tell, a timer, an outside caller). */
  readonly parent: ChainTurn | null;
}

/**
 * The turn running synchronously now. An object rather than a module variable: the owner loop
 * loads it once per batch and writes its field per turn, which costs less than a call into this
 * module (imported bindings are live and checked on every use).
 */
export const syncState: { turn: ChainTurn | null } = { turn: null };
let als: AsyncLocalStorage<ChainTurn> | null = null;

/** The running turn, or null when called from outside any actor. */
export function currentTurn(): ChainTurn | null {
  const t = syncState.turn;
  if (t !== null) return t;
  return als === null ? null : (als.getStore() ?? null);
}

/** Run synchronously as part of `turn`; returns the turn to restore with {@link leaveSync}. */
export function enterSync(turn: ChainTurn | null): ChainTurn | null {
  const prev = syncState.turn;
  syncState.turn = turn;
  return prev;
}

/** Restore the turn saved by {@link enterSync}. */
export function leaveSync(prev: ChainTurn | null): void {
  syncState.turn = prev;
}

/** Run `fn` as part of `turn`, carrying the turn across its awaits. */
export function runAsync<R>(turn: ChainTurn, fn: () => R): R {
  als ??= new AsyncLocalStorage<ChainTurn>();
  return als.run(turn, fn);
}

/**
 * The ids along the chain from `turn` up to the first active turn owned by `target`, or null when
 * `target` has no active turn on the chain. An ask that closes such a loop can never be answered:
 * the target is busy with a turn that waits, directly or through others, for this very ask.
 */
export function findCycle(turn: ChainTurn | null, target: object, targetId: string): string[] | null {
  for (let t = turn; t !== null; t = t.parent) {
    if (t.owner === target && !t.done) {
      const ids: string[] = [];
      for (let u: ChainTurn | null = turn; u !== null; u = u.parent) {
        ids.push(u.actorId);
        if (u === t) break;
      }
      ids.reverse();
      ids.push(targetId);
      return ids;
    }
  }
  return null;
}
