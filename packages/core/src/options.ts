import type { Transferable } from 'node:worker_threads';
import type { ActorHost } from './ActorHost.js';
import type { Clock } from './Clock.js';
import type { Cluster } from './cluster.js';
import type { ActorDefinition } from './defineActor.js';
import type { Logger } from './Logger.js';
import type { ActorStore } from './store.js';

/**
 * What happens when a message arrives at a full mailbox:
 * - `reject` (default): the sender is refused at once (`MAILBOX_FULL`; a tell becomes a dead letter);
 * - `drop-oldest`: the oldest queued message is dropped to make room (an ask among them fails
 *   with `MAILBOX_FULL`, a tell becomes a dead letter), for telemetry-like traffic;
 * - `wait`: `ask` and `send` wait for room (backpressure), within the ask's deadline; `tell`,
 *   which cannot wait, becomes a dead letter.
 */
export type OverflowPolicy = 'reject' | 'drop-oldest' | 'wait';

/** A mailbox's bound. */
export interface MailboxOptions {
  /** How many user messages may wait (default 10 000). */
  readonly capacity?: number;
  /** What to do when it is full (default `reject`). */
  readonly overflow?: OverflowPolicy;
}

/**
 * Which messages are checked against the protocol's zod schemas.
 * - `input` (default true): inputs are checked before they enter the mailbox.
 * - `reply` (default true unless `NODE_ENV` is `production`): replies are checked before they
 *   reach the caller; a bad reply crashes the turn with an `INVALID_REPLY` cause.
 */
export interface ValidationOptions {
  readonly input?: boolean;
  readonly reply?: boolean;
}

/**
 * When a child is restarted by its steward (OTP's restart types):
 * - `permanent` (default): always, after a crash and after a normal exit (`ctx.stop()`);
 * - `transient`: only after a crash (a normal exit ends it);
 * - `temporary`: never.
 *
 * A child stopped from outside (`system.stop`, `steward.stop`) is never restarted.
 */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/**
 * How often restarts may happen before a supervisor gives up: at most `maxRestarts` within a
 * sliding window of `withinMs`. The next failure inside the window is one too many.
 */
export interface RestartIntensity {
  /** Restarts allowed within the window (default 3). */
  readonly maxRestarts?: number;
  /** The sliding window in milliseconds (default 5 000). */
  readonly withinMs?: number;
}

/** How a steward restarts its children when one of them fails (OTP's strategies). */
export type Strategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';

/**
 * Exponential backoff between restarts (off by default). The delay before the n-th restart of a
 * child within the steward's window is
 *
 * `min(maxMs, minMs × factor^(n−1)) × (1 + jitter × (2u − 1))`, with `u` uniform in [0, 1).
 */
export interface BackoffOptions {
  /** The first delay in ms. */
  readonly minMs: number;
  /** The cap of the delay before jitter, in ms. */
  readonly maxMs: number;
  /** The growth per restart (default 2). */
  readonly factor?: number;
  /** The random spread, a fraction of the delay in [0, 1] (default 0.2: ±20%). */
  readonly jitter?: number;
}

/**
 * Hang detection. Every turn start and every `ctx.heartbeat()` is progress; a turn that shows
 * none for `timeoutMs` is hung. A steward checks its children every `sweepMs` with one timer.
 */
export interface HeartbeatOptions {
  /** No progress for this long in one turn is a hang (default 30 000; `Infinity` turns it off). */
  readonly timeoutMs?: number;
  /**
   * How often the steward sweeps its children (default `timeoutMs / 10`, between 10 and
   * 1 000 ms). An actor with a shorter hang timeout of its own makes its steward sweep at least
   * every tenth of it, so every hang is found within its own timeout plus one sweep.
   */
  readonly sweepMs?: number;
}

/** What a child's mailbox does while the child is down (between a crash and its restart). */
export type WhileDown = 'hold' | 'refuse';

/** Options of a steward (`system.steward(name, options)`, `steward.steward(name, options)`). */
export interface StewardOptions {
  /** Which children restart when one fails (default `one-for-one`). */
  readonly strategy?: Strategy;
  /** The steward's restart limit over all its children (default 3 within 5 000 ms). */
  readonly intensity?: RestartIntensity;
  /** Delay restarts with exponential backoff (default: restart at once). */
  readonly backoff?: BackoffOptions;
  /** Hang detection for its children (default: the system's). */
  readonly heartbeat?: HeartbeatOptions;
  /**
   * While a child is down, `hold` (default) keeps arriving messages in its mailbox (bounded by its
   * capacity) for the next incarnation; `refuse` fails asks with `ACTOR_STOPPED` (reason
   * `restarting`) and turns tells into dead letters.
   */
  readonly whileDown?: WhileDown;
  /** The steward's own restart type under its parent (default `permanent`). */
  readonly restart?: RestartType;
}

/** Options for one actor; on a behaviour's `options` they are defaults for its type. */
export interface ActorOptions {
  readonly mailbox?: MailboxOptions;
  /** The default timeout of asks to this actor (overrides the system's). */
  readonly askTimeoutMs?: number;
  readonly restart?: RestartType;
  readonly intensity?: RestartIntensity;
  readonly validate?: ValidationOptions;
  /** How long `onStop` may run before it is abandoned (default 5 000 ms). */
  readonly stopTimeoutMs?: number;
  /** Hang detection for this actor (default: its steward's). */
  readonly heartbeat?: { readonly timeoutMs?: number };
}

/** Options for one ask. */
export interface AskOptions {
  /** This ask's timeout in milliseconds (default: the actor's, then the system's, then 5 000). */
  readonly timeoutMs?: number;
  /** Abort the ask: it fails with `CANCELLED` and the handler's `ctx.signal` aborts. */
  readonly signal?: AbortSignal;
  /**
   * For an `ask` to an actor on a worker thread: buffers (and ports) in the input to move to the
   * thread instead of copying them. They are unusable by the caller afterwards. Ignored in-thread,
   * where nothing is copied, and by `send` (a tell's input is copied).
   *
   * @example
   * ```ts
   * await hasher.ask('digest', { data }, { transfer: [data.buffer] });
   * ```
   */
  readonly transfer?: readonly Transferable[];
  /**
   * For an ask to a durable actor: a key that makes the ask safe to retry. The actor keeps the
   * reply (or the `REJECTED` refusal) to each keyed ask with its state, in the same commit; an
   * ask with a key it kept gets that reply again instead of running the handler a second time —
   * on this node or, in a cluster, on the node that took the actor over. An actor keeps the
   * replies of its last `durable.keepReplies` keyed asks (default 100); a retry with an older key
   * runs again. Keys are per actor, 1 to 200 characters; a key kept for another message is
   * refused (`INVALID_ARGUMENT`). Read-only messages are not kept (running them again is safe);
   * a turn that crashes keeps nothing. Not for `send`, nor for actors that are not durable.
   *
   * @example
   * ```ts
   * const key = crypto.randomUUID();
   * // The first try timed out: was it applied? Asking again with the same key is safe.
   * await account.ask('withdraw', { amount: 30 }, { idempotencyKey: key }).catch(() =>
   *   account.ask('withdraw', { amount: 30 }, { idempotencyKey: key }),
   * );
   * ```
   */
  readonly idempotencyKey?: string;
}

/** @internal Options resolved once per spawn (shared between actors spawned with the same ones). */
export interface ResolvedActorOptions {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  readonly askTimeoutMs: number;
  readonly restart: RestartType;
  readonly maxRestarts: number;
  readonly withinMs: number;
  readonly validateInput: boolean;
  readonly validateReply: boolean;
  readonly stopTimeoutMs: number;
  /** The actor's own hang timeout, or undefined to use its steward's. */
  readonly hangTimeoutMs: number | undefined;
}

export const DEFAULTS = {
  capacity: 10_000,
  overflow: 'reject' as OverflowPolicy,
  askTimeoutMs: 5_000,
  restart: 'permanent' as RestartType,
  maxRestarts: 3,
  withinMs: 5_000,
  stopTimeoutMs: 5_000,
  drainTimeoutMs: 10_000,
  hangTimeoutMs: 30_000,
  backoffFactor: 2,
  backoffJitter: 0.2,
};

/** The sweep period for a hang timeout: a tenth of it, between 10 ms and 1 000 ms. */
export function defaultSweepMs(timeoutMs: number): number {
  if (!Number.isFinite(timeoutMs)) return 1_000;
  return Math.min(1_000, Math.max(10, timeoutMs / 10));
}

/** Options of {@link createSystem}. */
export interface SystemOptions {
  /** The system's name, in logs and errors (default `holdfast`). */
  readonly name?: string;
  /** The clock for deadlines, timers and restart windows (default: the real one). */
  readonly clock?: Clock;
  /** Where actors and the system log (default: nowhere). A pino logger fits as it is. */
  readonly logger?: Logger;
  /** The default ask timeout in ms (default 5 000). Actor and call options override it. */
  readonly askTimeoutMs?: number;
  /** Which messages are checked against their schemas (see {@link ValidationOptions}). */
  readonly validate?: ValidationOptions;
  /** The default mailbox bound (capacity 10 000, policy `reject`). */
  readonly mailbox?: MailboxOptions;
  /** The default restart type of spawned actors (default `permanent`). */
  readonly restart?: RestartType;
  /** The default restart intensity of each spawned actor (default 3 within 5 000 ms). */
  readonly intensity?: RestartIntensity;
  /** How long `shutdown()` waits for queued and in-flight work (default 10 000 ms). */
  readonly drainTimeoutMs?: number;
  /** Hang detection: the default of every steward and actor (timeout 30 000 ms, sweep every 1 000 ms). */
  readonly heartbeat?: HeartbeatOptions;
  /** Backoff between restarts of actors made with `system.spawn` (default: none). */
  readonly backoff?: BackoffOptions;
  /** What the mailbox of an actor made with `system.spawn` does while it is down (default `hold`). */
  readonly whileDown?: WhileDown;
  /**
   * The root steward's own limit: how often the stewards under it may escalate (and be restarted)
   * before the system reports `fatal` (default 3 within 5 000 ms).
   */
  readonly rootIntensity?: RestartIntensity;
  /** The random source of backoff jitter, in [0, 1) (default `Math.random`). */
  readonly random?: () => number;
  /** Receives turn durations, for metrics (default: turns are not timed). */
  readonly turnObserver?: TurnObserver;
  /**
   * Where durable actors keep their state (`defineActor(…, { durable })`, reached with
   * `system.ref(Def, id)`): `sqliteStore(…)` from `@holdfast/store-sqlite`, `postgresStore(…)`
   * from `@holdfast/store-postgres`, or `memoryStore()` for tests. The system opens it at once,
   * taking a new ownership epoch (an older owner's writes are refused from then on).
   */
  readonly store?: ActorStore;
  /** How durable actors are kept awake and put to sleep. */
  readonly durable?: DurableOptions;
  /**
   * Run this system as one node of a cluster (`natsCluster()` from `@holdfast/nats`): durable
   * actors are sharded by id over the nodes, and `system.ref(Type, id)` reaches one wherever it
   * runs. Needs a store every node shares (`postgresStore()`), and the durable types listed in
   * `durable.types` (a node serves messages only for types it knows).
   */
  readonly cluster?: Cluster;
}

/** How a system keeps durable actors in memory. */
export interface DurableOptions {
  /** Put a durable actor to sleep (passivate it) after this long without a turn (default 300 000 ms). */
  readonly passivateAfterMs?: number;
  /**
   * At most this many durable actors awake (default 100 000): past it, the least recently used idle
   * ones are put to sleep, so memory is bounded by this, not by how many actors exist.
   */
  readonly maxActive?: number;
  /** How often the store is asked for reminders coming due (default 1 000 ms). */
  readonly reminderPollMs?: number;
  /**
   * The durable types whose reminders this system delivers from the start (a type is also known
   * once `system.ref` has been called with it).
   */
  // biome-ignore lint/suspicious/noExplicitAny: any durable definition.
  readonly types?: ReadonlyArray<ActorDefinition<any, any, any>>;
  /** Told about every commit (its duration, how many actor states it wrote, whether it landed), for metrics. */
  readonly onCommit?: (durationMs: number, writes: number, ok: boolean) => void;
}

/**
 * Receives how long turns take, for metrics (the service runtime feeds a Prometheus histogram
 * with it). Async turns are always timed; synchronous ones are sampled, one in `sampleEvery`,
 * because reading the clock costs more than a short turn.
 *
 * @example
 * ```ts
 * createSystem({ turnObserver: { sampleEvery: 16, observe: (type, message, ms) => histogram.observe({ type }, ms / 1000) } });
 * ```
 */
export interface TurnObserver {
  /** Time one synchronous turn in this many (default 16; 1 times every turn). */
  readonly sampleEvery?: number;
  /** Called after a timed turn, with the actor type, the message and the duration in ms. */
  observe(actorType: string, message: string, durationMs: number): void;
}

/**
 * Options of `system.spawn`. `args` is required when the behaviour's `init` needs it; `host` is
 * required for (and only taken by) actor types that run on a host, such as `workerActor(...)`.
 */
export type SpawnOptions<A> = ActorOptions & { readonly id?: string; readonly host?: ActorHost } & (undefined extends A
    ? { readonly args?: A }
    : { readonly args: A });
