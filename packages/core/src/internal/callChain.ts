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
export interface Turn {
  /** The actor's id (for the DEADLOCK message). */
  readonly actorId: string;
  /** The owner of the turn: compared by identity. */
  readonly owner: object;
  /** True once the turn has ended. */
  readonly done: boolean;
  /** True once the incarnation that ran the turn is gone (a hung turn that goes on is a zombie). */
  readonly fenced: boolean;
  /** The turn that sent the ask this turn serves, or null (a tell, a timer, an outside caller). */
  readonly parent: Turn | null;
}

/** An owner loop running a run of turns; while one of its handlers runs, its message is its mailbox head. */
export interface RunningCell {
  /** The turn whose handler is running synchronously now, or null (between turns). */
  runningTurn(): Turn | null;
}

/**
 * What is running synchronously now. `turn` is set by hooks and by code outside the owner loop's
 * fast path. `cell` is set by the owner loop for a whole run of turns, and the cell itself says
 * whether one of its handlers is on the stack. The running message stays at the head of its
 * mailbox during the call, so the loop never stores the (young) message into this (old) object:
 * that store's GC write barrier cost ~10 ns per message; and storing the cell here once per turn
 * cost ~10 % of a tell.
 */
export const syncState: { turn: Turn | null; cell: RunningCell | null; async: boolean } = { turn: null, cell: null, async: false };
let als: AsyncLocalStorage<Turn> | null = null;

/**
 * Durable turns in progress whose messages must wait for their commit (the output gate). While it
 * is 0 — always, in a system without durable actors — every tell takes its fast path.
 */
export const outputGate: { turns: number } = { turns: 0 };

/**
 * True when a turn may be running (and currentTurn must look): false from outside any actor
 * before any async turn ever ran. Small, for the send paths to test inline.
 */
export function maybeInTurn(): boolean {
  const s = syncState;
  return s.turn !== null || s.cell !== null || s.async;
}

/** The running turn, or null when called from outside any actor. */
export function currentTurn(): Turn | null {
  const t = syncState.turn;
  if (t !== null) return t;
  const c = syncState.cell;
  if (c !== null) {
    const running = c.runningTurn();
    if (running !== null) return running;
  }
  return als === null ? null : (als.getStore() ?? null);
}

/** Run synchronously as part of `turn`; returns the turn to restore with {@link leaveSync}. */
export function enterSync(turn: Turn | null): SavedSync {
  const prev: SavedSync = { turn: syncState.turn, cell: syncState.cell };
  syncState.turn = turn;
  syncState.cell = null;
  return prev;
}

/** What {@link enterSync} saved. */
export interface SavedSync {
  readonly turn: Turn | null;
  readonly cell: RunningCell | null;
}

/** Restore what {@link enterSync} saved. */
export function leaveSync(prev: SavedSync): void {
  syncState.turn = prev.turn;
  syncState.cell = prev.cell;
}

/** Run `fn` as part of `turn`, carrying the turn across its awaits. */
export function runAsync<R>(turn: Turn, fn: () => R): R {
  als ??= new AsyncLocalStorage<Turn>();
  syncState.async = true;
  return als.run(turn, fn);
}

/**
 * The ids along the chain from `turn` up to the first active turn owned by `target`, or null when
 * `target` has no active turn on the chain. An ask that closes such a loop can never be answered:
 * the target is busy with a turn that waits, directly or through others, for this very ask.
 */
export function findCycle(turn: Turn | null, target: object, targetId: string): string[] | null {
  for (let t = turn; t !== null; t = t.parent) {
    if (t.owner === target && !t.done) {
      const ids: string[] = [];
      for (let u: Turn | null = turn; u !== null; u = u.parent) {
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
