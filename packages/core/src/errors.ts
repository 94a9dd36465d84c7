/**
 * Every error Holdfast produces. Each one extends {@link HoldfastError}, carries a stable
 * `code`, a `cause` where there is one, and serialises (`toJSON`) so that it can cross a
 * thread, a socket or `JSON.stringify` and be revived with {@link errorFromJSON}.
 *
 * Check errors with {@link isHoldfastError} (it reads a `Symbol.for` brand and the code, so two
 * copies of this package still agree), not with `instanceof` alone.
 *
 * @module
 */

const BRAND = Symbol.for('holdfast.error');

/** The stable codes of every error Holdfast produces. */
export const ErrorCode = {
  /** The input did not match the protocol's zod schema; nothing was queued. */
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  /** The reply did not match the protocol's reply schema (the cause of an `ACTOR_CRASHED`). */
  INVALID_REPLY: 'INVALID_REPLY',
  /** No reply arrived within the ask's deadline. */
  ASK_TIMEOUT: 'ASK_TIMEOUT',
  /** The mailbox was at capacity (or the message was dropped to make room). */
  MAILBOX_FULL: 'MAILBOX_FULL',
  /** No actor with that id exists. */
  ACTOR_NOT_FOUND: 'ACTOR_NOT_FOUND',
  /** An actor with that id exists already. */
  ACTOR_EXISTS: 'ACTOR_EXISTS',
  /** The actor was stopped (or gave up restarting) before it could answer. */
  ACTOR_STOPPED: 'ACTOR_STOPPED',
  /** The handler threw or hung; carries the cause and the restart decision. */
  ACTOR_CRASHED: 'ACTOR_CRASHED',
  /** A business refusal from `reject(code, details)`: state kept, no restart. */
  REJECTED: 'REJECTED',
  /** The caller's `AbortSignal` fired before the reply. */
  CANCELLED: 'CANCELLED',
  /** Refused because the system is draining. */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  /** An ask cycle (A asks B asks A) that could never be answered. */
  DEADLOCK: 'DEADLOCK',
  /** The worker thread hosting the actor died. */
  WORKER_LOST: 'WORKER_LOST',
  /** An argument to a Holdfast API was invalid (a programming error). */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** A durable actor's state failed its schema (stored, migrated or about to be committed). */
  STATE_INVALID: 'STATE_INVALID',
  /** A durable turn's state could not be committed (retryable: the actor restarts from storage). */
  COMMIT_FAILED: 'COMMIT_FAILED',
  /** The durable store cannot be reached: asks to durable actors fail fast (retryable). */
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  /** In a cluster: the actor's shard is not served by the node asked (it moves); retried within the ask's deadline. */
  SHARD_MOVED: 'SHARD_MOVED',
  /** In a cluster: the node serving an ask was lost before it answered; whether the message was applied is unknown. */
  NODE_LOST: 'NODE_LOST',
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The JSON form of a {@link HoldfastError}, as produced by `toJSON()`. */
export interface SerializedError {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
  readonly cause?: SerializedError | { readonly name: string; readonly message: string; readonly stack?: string };
  readonly stack?: string;
}

/**
 * The base of every Holdfast error.
 *
 * @example
 * ```ts
 * try { await counter.ask('get', { key: 'a' }); }
 * catch (e) { if (isHoldfastError(e, 'ASK_TIMEOUT')) console.log('slow counter'); }
 * ```
 */
export class HoldfastError<C extends string = string, D = unknown> extends Error {
  /** The stable code: switch on this. */
  readonly code: C;
  /** Structured details (zod issues, actor id, business details …). */
  readonly details: D;

  constructor(code: C, message: string, details: D, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = details;
  }

  static {
    // On the prototype, not each instance: defining a property on an error object per instance
    // turns it into a slow dictionary object. Symbol.for lets copies of this package agree.
    Object.defineProperty(HoldfastError.prototype, BRAND, { value: true });
  }

  override get name(): string {
    return 'HoldfastError';
  }

  /** A plain, JSON-safe object with the code, message, details and cause chain. */
  toJSON(): SerializedError {
    const out: { -readonly [K in keyof SerializedError]: SerializedError[K] } = {
      name: this.name,
      code: this.code,
      message: this.message,
    };
    if (this.details !== undefined) out.details = this.details;
    if (this.cause !== undefined) out.cause = serializeUnknown(this.cause);
    if (this.stack !== undefined) out.stack = this.stack;
    return out;
  }
}

/** Details of an {@link InvalidMessage}. */
export interface InvalidMessageDetails {
  readonly actor?: string;
  readonly message: string;
  /** zod's issues, as zod reports them. */
  readonly issues: ReadonlyArray<{ readonly path: ReadonlyArray<PropertyKey>; readonly message: string; readonly code?: string }>;
}

/** The input did not match the protocol's schema. Nothing was queued. */
export class InvalidMessage extends HoldfastError<'INVALID_MESSAGE', InvalidMessageDetails> {
  constructor(details: InvalidMessageDetails, message?: string) {
    super(ErrorCode.INVALID_MESSAGE, message ?? formatIssues(`invalid input for '${details.message}'`, details.issues), details);
  }
  override get name() {
    return 'InvalidMessage';
  }

  /** A message name the actor's protocol does not have: the one way this error is made. */
  static unknownMessage(actor: string, protocol: string, message: string): InvalidMessage {
    return new InvalidMessage(
      { actor, message: String(message), issues: [{ path: [], message: `unknown message '${String(message)}'`, code: 'unknown_message' }] },
      `actor '${actor}' (${protocol}) has no message '${String(message)}'`,
    );
  }
}

/** The reply did not match the protocol's reply schema. */
export class InvalidReply extends HoldfastError<'INVALID_REPLY', InvalidMessageDetails> {
  constructor(details: InvalidMessageDetails) {
    super(ErrorCode.INVALID_REPLY, formatIssues(`invalid reply from '${details.message}'`, details.issues), details);
  }
  override get name() {
    return 'InvalidReply';
  }
}

/** No reply within the ask's deadline. */
export class AskTimeout extends HoldfastError<'ASK_TIMEOUT', { readonly actor: string; readonly message: string; readonly timeoutMs: number }> {
  constructor(actor: string, message: string, timeoutMs: number) {
    super(ErrorCode.ASK_TIMEOUT, `ask '${message}' to '${actor}' timed out after ${timeoutMs} ms`, { actor, message, timeoutMs });
  }
  override get name() {
    return 'AskTimeout';
  }
}

/** The mailbox was full (`reject`), or this message was dropped to make room (`drop-oldest`). */
export class MailboxFull extends HoldfastError<'MAILBOX_FULL', { readonly actor: string; readonly capacity: number; readonly dropped: boolean }> {
  constructor(actor: string, capacity: number, dropped = false) {
    super(
      ErrorCode.MAILBOX_FULL,
      dropped ? `message to '${actor}' dropped: mailbox full (capacity ${capacity}, drop-oldest)` : `mailbox of '${actor}' is full (capacity ${capacity})`,
      { actor, capacity, dropped },
    );
  }
  override get name() {
    return 'MailboxFull';
  }
}

/** No actor with that id. */
export class ActorNotFound extends HoldfastError<'ACTOR_NOT_FOUND', { readonly actor: string }> {
  constructor(actor: string) {
    super(ErrorCode.ACTOR_NOT_FOUND, `no actor '${actor}'`, { actor });
  }
  override get name() {
    return 'ActorNotFound';
  }
}

/** An actor with that id exists already. */
export class ActorExists extends HoldfastError<'ACTOR_EXISTS', { readonly actor: string }> {
  constructor(actor: string) {
    super(ErrorCode.ACTOR_EXISTS, `an actor '${actor}' exists already`, { actor });
  }
  override get name() {
    return 'ActorExists';
  }
}

/**
 * Why an actor's incarnation ended:
 * - `stopped`: stopped from outside (`system.stop`, `steward.stop`) or a temporary actor crashed;
 * - `normal`: the actor ended itself with `ctx.stop()`;
 * - `gave-up`: it failed more often than its restart limit allows;
 * - `shutdown`: the system shut down;
 * - `restarting`: it is being restarted (after a crash, a hang, or `system.restart`);
 * - `sibling-restart`: a sibling failed and the steward's strategy restarts it too;
 * - `escalated`: its steward exceeded its restart limit and handed the failure to its parent;
 * - `passivated`: a durable actor idle long enough was put to sleep (its state is stored; the
 *   next message wakes it).
 */
export type StopReason = 'stopped' | 'normal' | 'gave-up' | 'shutdown' | 'sibling-restart' | 'restarting' | 'escalated' | 'passivated';

/** The actor stopped before it could answer. */
export class ActorStopped extends HoldfastError<'ACTOR_STOPPED', { readonly actor: string; readonly reason: StopReason }> {
  constructor(actor: string, reason: StopReason, cause?: unknown) {
    super(ErrorCode.ACTOR_STOPPED, `actor '${actor}' is stopped (${reason})`, { actor, reason }, cause === undefined ? undefined : { cause });
  }
  override get name() {
    return 'ActorStopped';
  }
}

/** Why the owner loop failed a turn. */
export type CrashReason = 'threw' | 'hung' | 'invalid-reply' | 'start-failed' | 'worker-lost' | 'commit-failed' | 'invalid-state';
/** What the supervisor decided after the crash. */
export type RestartDecision = 'restart' | 'stop' | 'escalate';

/** The handler threw or hung. The cause is the thrown value, normalised. */
export class ActorCrashed extends HoldfastError<
  'ACTOR_CRASHED',
  { readonly actor: string; readonly message: string | null; readonly reason: CrashReason; readonly decision: RestartDecision; readonly incarnation: number }
> {
  constructor(details: { actor: string; message: string | null; reason: CrashReason; decision: RestartDecision; incarnation: number }, cause: unknown) {
    super(
      ErrorCode.ACTOR_CRASHED,
      `actor '${details.actor}' crashed (${details.reason})${details.message ? ` handling '${details.message}'` : ''}: ${describe(cause)}; ${details.decision}`,
      details,
      { cause },
    );
  }
  override get name() {
    return 'ActorCrashed';
  }
}

/** A business refusal raised by `reject(code, details)`. The actor keeps its state. */
export class Rejected<D = unknown> extends HoldfastError<'REJECTED', { readonly reason: string; readonly details: D }> {
  constructor(reason: string, details: D) {
    super(ErrorCode.REJECTED, `rejected: ${reason}`, { reason, details });
  }
  override get name() {
    return 'Rejected';
  }
  /** The business code given to `reject`. */
  get reason(): string {
    return this.details.reason;
  }
}

/** The caller's signal aborted the ask. */
export class Cancelled extends HoldfastError<'CANCELLED', { readonly actor: string; readonly message: string }> {
  constructor(actor: string, message: string, cause?: unknown) {
    super(ErrorCode.CANCELLED, `ask '${message}' to '${actor}' was cancelled`, { actor, message }, cause === undefined ? undefined : { cause });
  }
  override get name() {
    return 'Cancelled';
  }
}

/** Refused: the system is draining. */
export class ShuttingDown extends HoldfastError<'SHUTTING_DOWN', { readonly system: string }> {
  constructor(system: string) {
    super(ErrorCode.SHUTTING_DOWN, `system '${system}' is shutting down`, { system });
  }
  override get name() {
    return 'ShuttingDown';
  }
}

/** An ask that loops back to an actor whose turn is waiting on the chain: it could never be answered. */
export class Deadlock extends HoldfastError<'DEADLOCK', { readonly chain: readonly string[] }> {
  constructor(chain: readonly string[]) {
    super(ErrorCode.DEADLOCK, `ask cycle: ${chain.join(' -> ')}`, { chain });
  }
  override get name() {
    return 'Deadlock';
  }
}

/** The worker thread hosting the actor died. */
export class WorkerLost extends HoldfastError<'WORKER_LOST', { readonly actor: string; readonly worker: number }> {
  constructor(actor: string, worker: number, cause?: unknown) {
    super(ErrorCode.WORKER_LOST, `worker ${worker} hosting '${actor}' was lost`, { actor, worker }, cause === undefined ? undefined : { cause });
  }
  override get name() {
    return 'WorkerLost';
  }
}

/** Where a durable actor's state failed its schema. */
export type StateCheckPoint = 'load' | 'migrate' | 'commit';

/**
 * A durable actor's state failed its schema: on `load` (the stored row; the actor does not
 * activate and the row is left untouched), after a `migrate` step, or before a `commit` (the turn
 * that produced it crashes; nothing is written).
 */
export class StateInvalid extends HoldfastError<
  'STATE_INVALID',
  {
    readonly actor: string;
    readonly type: string;
    readonly at: StateCheckPoint;
    readonly version: number;
    readonly issues: ReadonlyArray<{ readonly path: ReadonlyArray<PropertyKey>; readonly message: string; readonly code?: string }>;
  }
> {
  constructor(details: StateInvalid['details']) {
    const first = details.issues[0];
    const where = first === undefined ? '' : `: ${first.path.length > 0 ? `${first.path.join('.')}: ` : ''}${first.message}`;
    super(
      ErrorCode.STATE_INVALID,
      `${details.type} '${details.actor}': state fails its schema (version ${details.version}, on ${details.at})${where}`,
      details,
    );
  }
  override get name() {
    return 'StateInvalid';
  }
}

/**
 * A durable turn's state was not committed: its reply (and its messages) never left, and the
 * actor restarts from its last committed state. Retryable. `storeCode` says why (for example
 * `STORE_UNAVAILABLE`, or `STORE_FENCED` when a newer owner took the store over).
 */
export class CommitFailed extends HoldfastError<'COMMIT_FAILED', { readonly actor: string; readonly type: string; readonly storeCode: string }> {
  constructor(actor: string, type: string, cause: unknown) {
    const storeCode = (cause as { code?: unknown })?.code;
    super(
      ErrorCode.COMMIT_FAILED,
      `${type} '${actor}': the turn's state was not committed (${describe(cause)}); retry`,
      { actor, type, storeCode: typeof storeCode === 'string' ? storeCode : 'UNKNOWN' },
      { cause },
    );
  }
  override get name() {
    return 'CommitFailed';
  }
}

/** The durable store is down: asks to durable actors fail at once instead of waiting. Retryable. */
export class StoreUnavailable extends HoldfastError<'STORE_UNAVAILABLE', { readonly store: string; readonly actor: string }> {
  constructor(store: string, actor: string, cause?: unknown) {
    super(
      ErrorCode.STORE_UNAVAILABLE,
      `store '${store}' is unavailable: '${actor}' cannot be reached; retry`,
      { store, actor },
      cause === undefined ? undefined : { cause },
    );
  }
  override get name() {
    return 'StoreUnavailable';
  }
}

/**
 * In a cluster: the node asked does not serve the actor's shard (it was handed over or lost).
 * Nothing was applied. A ref retries on the shard's new owner within the ask's deadline; a
 * caller sees this only from a node that leaves.
 */
export class ShardMoved extends HoldfastError<'SHARD_MOVED', { readonly actor: string; readonly shard: number; readonly node: string }> {
  constructor(actor: string, shard: number, node: string) {
    super(ErrorCode.SHARD_MOVED, `node '${node}' does not serve shard ${shard} (of '${actor}'): it moved`, { actor, shard, node });
  }
  override get name() {
    return 'ShardMoved';
  }
}

/**
 * In a cluster: the node serving the ask was lost (it died, or stopped answering) before it
 * answered. The message may or may not have been applied; an ask with an idempotency key can be
 * sent again safely.
 */
export class NodeLost extends HoldfastError<'NODE_LOST', { readonly actor: string; readonly message: string; readonly node: string }> {
  constructor(actor: string, message: string, node: string, cause?: unknown) {
    super(
      ErrorCode.NODE_LOST,
      `node '${node}' serving '${actor}' was lost before it answered '${message}'; whether it was applied is unknown`,
      { actor, message, node },
      cause === undefined ? undefined : { cause },
    );
  }
  override get name() {
    return 'NodeLost';
  }
}

/** A Holdfast API was called with an invalid argument. */
export class InvalidArgument extends HoldfastError<'INVALID_ARGUMENT', unknown> {
  constructor(message: string, details?: unknown) {
    super(ErrorCode.INVALID_ARGUMENT, message, details);
  }
  override get name() {
    return 'InvalidArgument';
  }
}

/**
 * Refuse a request for a business reason from inside a handler. The caller's ask rejects with a
 * `REJECTED` error carrying `reason` and `details`; the actor keeps its state and is not
 * restarted.
 *
 * @example
 * ```ts
 * withdraw(state, { amount }) {
 *   if (amount > state.balance) reject('INSUFFICIENT_FUNDS', { balance: state.balance });
 *   state.balance -= amount;
 *   return state.balance;
 * }
 * ```
 */
export function reject<D = undefined>(reason: string, details?: D): never {
  throw new Rejected<D | undefined>(reason, details);
}

/**
 * True when `e` is a Holdfast error (from any copy of this package), optionally with `code`.
 *
 * @example
 * ```ts
 * if (isHoldfastError(err, 'REJECTED')) console.log(err.details.reason);
 * ```
 */
export function isHoldfastError<C extends ErrorCode>(e: unknown, code: C): e is ErrorOfCode<C>;
export function isHoldfastError(e: unknown): e is HoldfastError;
export function isHoldfastError(e: unknown, code?: string): boolean {
  if (typeof e !== 'object' || e === null || (e as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (e as HoldfastError).code === code;
}

/** Maps each code to its error class. */
export interface ErrorsByCode {
  INVALID_MESSAGE: InvalidMessage;
  INVALID_REPLY: InvalidReply;
  ASK_TIMEOUT: AskTimeout;
  MAILBOX_FULL: MailboxFull;
  ACTOR_NOT_FOUND: ActorNotFound;
  ACTOR_EXISTS: ActorExists;
  ACTOR_STOPPED: ActorStopped;
  ACTOR_CRASHED: ActorCrashed;
  REJECTED: Rejected;
  CANCELLED: Cancelled;
  SHUTTING_DOWN: ShuttingDown;
  DEADLOCK: Deadlock;
  WORKER_LOST: WorkerLost;
  INVALID_ARGUMENT: InvalidArgument;
  STATE_INVALID: StateInvalid;
  COMMIT_FAILED: CommitFailed;
  STORE_UNAVAILABLE: StoreUnavailable;
  SHARD_MOVED: ShardMoved;
  NODE_LOST: NodeLost;
}
/** The error class for a code. */
export type ErrorOfCode<C extends ErrorCode> = ErrorsByCode[C];

/**
 * Revive an error from its JSON form (the inverse of `toJSON`). The result is a
 * {@link HoldfastError} with the same code, message, details and cause chain, so
 * {@link isHoldfastError} holds on it across a thread or a socket.
 *
 * @example
 * ```ts
 * const copy = errorFromJSON(JSON.parse(JSON.stringify(err)));
 * isHoldfastError(copy, err.code); // true
 * ```
 */
export function errorFromJSON(json: SerializedError): HoldfastError {
  const cause = json.cause === undefined ? undefined : 'code' in json.cause ? errorFromJSON(json.cause as SerializedError) : reviveForeign(json.cause);
  const err = new RevivedError(json.name, json.code, json.message, json.details, cause);
  if (json.stack !== undefined) err.stack = json.stack;
  return err;
}

class RevivedError extends HoldfastError {
  readonly #name: string;
  constructor(name: string, code: string, message: string, details: unknown, cause: unknown) {
    super(code, message, details, cause === undefined ? undefined : { cause });
    this.#name = name;
  }
  override get name() {
    return this.#name;
  }
}

function reviveForeign(c: { name: string; message: string; stack?: string }): Error {
  const e = new Error(c.message);
  e.name = c.name;
  if (c.stack !== undefined) e.stack = c.stack;
  return e;
}

/** Turn any thrown value into an `Error` (strings and objects keep their text). */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'object' && thrown !== null && typeof (thrown as { message?: unknown }).message === 'string') {
    const e = new Error((thrown as { message: string }).message);
    Object.assign(e, thrown);
    return e;
  }
  return new Error(typeof thrown === 'string' ? thrown : `non-error thrown: ${safeString(thrown)}`);
}

function serializeUnknown(c: unknown): NonNullable<SerializedError['cause']> {
  if (isHoldfastError(c)) return c.toJSON();
  const e = toError(c);
  return e.stack === undefined ? { name: e.name, message: e.message } : { name: e.name, message: e.message, stack: e.stack };
}

function describe(c: unknown): string {
  if (c instanceof Error) return c.message;
  return safeString(c);
}

function safeString(v: unknown): string {
  try {
    return typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
  } catch {
    return String(v);
  }
}

function formatIssues(head: string, issues: InvalidMessageDetails['issues']): string {
  const lines = issues.slice(0, 5).map((i) => `${i.path.length ? i.path.map(String).join('.') : '(input)'}: ${i.message}`);
  const more = issues.length > 5 ? `; … ${issues.length - 5} more` : '';
  return `${head}: ${lines.join('; ')}${more}`;
}
