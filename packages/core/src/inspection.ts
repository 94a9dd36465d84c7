// What a running system shows of itself: the shapes of `system.actors()`, `system.inspect()`,
// `system.tree()`, `system.trace()` and `system.stats()`, which the debug REPL and the metrics read.
import type { RestartRecord } from './events.js';
import type { RestartType, Strategy } from './options.js';

/** An actor's status, as the REPL shows it. */
export type StatusName = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped';

/** A steward's status, as the REPL shows it. */
export type StewardStatusName = 'running' | 'restarting' | 'stopping' | 'stopped';

/** One line of `system.actors()`. */
export interface ActorSummary {
  readonly id: string;
  readonly type: string;
  /** The name of its steward (`root` for actors made with `system.spawn`). */
  readonly steward: string;
  /** Where its turns run: `main` (the main thread). */
  readonly host: string;
  /** Wall-clock time (ms since the epoch, ±250 ms) of its last turn, or null before the first. */
  readonly lastTurnAt: number | null;
  readonly status: StatusName;
  /** Messages waiting in the mailbox (and, for `wait` mailboxes, senders waiting for room). */
  readonly mailbox: number;
  readonly waiting: number;
  readonly capacity: number;
  readonly overflow: string;
  /** Turns run since spawn, over all incarnations. */
  readonly turns: number;
  readonly restarts: number;
  readonly incarnation: number;
  /** True while a turn is in progress (an async handler awaiting). */
  readonly busy: boolean;
  /** Deferred replies not yet sent. */
  readonly deferred: number;
  /** Messages dropped by `drop-oldest`. */
  readonly dropped: number;
}

/** What `system.inspect(id)` returns, and the REPL shows. */
export interface ActorSnapshot extends ActorSummary {
  /** The behaviour's `inspect(state)`, or a JSON-safe rendering of the state. */
  readonly state: unknown;
  /** Its newest restarts, oldest first. */
  readonly history: readonly RestartRecord[];
  /** For a durable actor: where its state stands with the store. */
  readonly durable?: DurableActorInfo;
}

/** Where a durable actor's state stands with the store (in its snapshot). */
export interface DurableActorInfo {
  /** The revision of its stored row (0: nothing stored yet). Grows by one per commit. */
  readonly revision: number;
  /** The schema version its type is at now. */
  readonly version: number;
  /** The schema version its row had when it woke (0: nothing was stored). */
  readonly storedVersion: number;
  /** Its state changed since it was last handed to a commit. */
  readonly dirty: boolean;
  /** Replies and messages waiting for a commit. */
  readonly held: number;
  /** A commit with its state is in flight. */
  readonly committing: boolean;
}

/**
 * One line of an actor's message trace (`system.trace`): a message in (`ask`, `tell`), or the
 * outcome of an ask out (`reply`, `error`).
 */
export interface TraceEvent {
  readonly actor: string;
  /** Wall-clock time (ms since the epoch). */
  readonly at: number;
  readonly dir: 'in' | 'out';
  readonly kind: 'ask' | 'tell' | 'reply' | 'error';
  readonly message: string;
  readonly input?: unknown;
  readonly value?: unknown;
  readonly error?: Error;
}

/** One node of the supervision tree as the REPL shows it. */
export interface StewardSnapshot {
  readonly kind: 'steward';
  readonly name: string;
  readonly path: string;
  readonly status: StewardStatusName;
  readonly strategy: Strategy;
  readonly maxRestarts: number;
  readonly withinMs: number;
  /** Restarts counted in the steward's window now. */
  readonly restartsInWindow: number;
  readonly incarnation: number;
  readonly history: readonly RestartRecord[];
  readonly children: ReadonlyArray<StewardSnapshot | ChildActorSnapshot>;
}

/** An actor in the tree as the REPL shows it. */
export interface ChildActorSnapshot {
  readonly kind: 'actor';
  readonly id: string;
  readonly type: string;
  readonly status: string;
  readonly restart: RestartType;
  readonly incarnation: number;
  readonly restarts: number;
  readonly history: readonly RestartRecord[];
}

/** The system's counters, since it was created (see `system.stats()`). */
export interface SystemCounters {
  /** Asks made (including refused ones). */
  asks: number;
  /** Turns run: messages handled, asks and tells. */
  turns: number;
  timeouts: number;
  cancelled: number;
  lateReplies: number;
  deadLetters: number;
  crashes: number;
  restarts: number;
  rejectedInputs: number;
  mailboxFull: number;
  dropped: number;
  deadlocks: number;
}

/** What a system reports of its durable actors (`system.stats().durable`). */
export interface DurableStats {
  /** The store's name (`sqlite:data/app.db`, …). */
  readonly store: string;
  /** The store can be used now (open, not failing, not fenced). */
  readonly available: boolean;
  /** Durable actors awake now. */
  readonly active: number;
  readonly activations: number;
  readonly passivations: number;
  /** Commits (transactions) made, and the actor states they wrote. */
  readonly commits: number;
  readonly writes: number;
  /** The largest number of actor states one commit wrote. */
  readonly largestBatch: number;
  /** Store operations that failed (opens, loads, commits). */
  readonly storeErrors: number;
}
