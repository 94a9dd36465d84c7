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
 * When an actor is restarted after a crash (OTP's restart types):
 * `permanent` (default) always, `transient` only after a crash (the same here, since a dynamic
 * actor only ends normally by being stopped), `temporary` never.
 */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/** How often an actor may be restarted before its supervisor gives up on it. */
export interface RestartIntensity {
  /** Restarts allowed within the window (default 3). */
  readonly maxRestarts?: number;
  /** The sliding window in milliseconds (default 5 000). */
  readonly withinMs?: number;
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
}

/** Options for one ask. */
export interface AskOptions {
  /** This ask's timeout in milliseconds (default: the actor's, then the system's, then 5 000). */
  readonly timeoutMs?: number;
  /** Abort the ask: it fails with `CANCELLED` and the handler's `ctx.signal` aborts. */
  readonly signal?: AbortSignal;
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
};
