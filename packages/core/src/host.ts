/**
 * `@holdfast/core/host`: the seam between core and an actor host (such as `@holdfast/workers`),
 * which runs actors somewhere other than the calling thread with the same semantics.
 * Applications do not need it.
 *
 * An actor on a host has a stand-in on the calling thread: an ordinary actor whose handlers
 * forward each message to the host ({@link HostSeam.forward}) and deliver the answer later
 * ({@link HostSeam.deliver}). The stand-in keeps the mailbox, the deadlines, validation and
 * supervision; the host reports failures ({@link HostSeam.crash}, {@link HostSeam.exit}) and
 * what it could not deliver ({@link HostSeam.deadLetter}, {@link HostSeam.lateReply}, …), and
 * core decides, counts and stamps them on the system's clock, as for its own actors.
 *
 * On the host's side (a worker thread), the same seam of that side's own system runs the actors:
 * {@link HostSeam.ask}, {@link HostSeam.delegatedSteward}, {@link HostSeam.runReady}, and the
 * lifecycle calls the stand-in's steward orders.
 *
 * @example
 * ```ts
 * const seam = hostSeam(system);
 * // in a stand-in's handler, synchronously:
 * const { reply } = seam.forward();
 * // later, when the host answers:
 * if (reply !== null) seam.deliver(reply, value);
 * ```
 * @module @holdfast/core/host
 */
import type { Transferable } from 'node:worker_threads';
import type { ActorHost } from './ActorHost.js';
import type { ActorRef } from './ActorRef.js';
import { type ActorSystem, PROGRESS_HOOK, START_INCARNATION } from './createSystem.js';
import type { DeferredReply } from './defineActor.js';
import type { CrashReason, RestartDecision, StopReason } from './errors.js';
import type { DeadLetter, RestartCause } from './events.js';
import { seamOf } from './internal/HostSeamImpl.js';
import type { StewardOptions } from './options.js';
import type { Steward } from './Steward.js';

export { checkKeys, type KeyShape, keysOf } from './checkKeys.js';
/** Core's defaults (ask timeout, hang timeout, mailbox capacity, …), for hosts that must agree with them. */
export { DEFAULTS } from './options.js';
/**
 * A system option for an actor host's own system: a function called on every `ctx.heartbeat()`,
 * so that a long turn that proves progress keeps the host's thread heartbeat going too. A spawn
 * option for an actor's host side: the incarnation it starts at, so that `ctx.incarnation` there
 * matches its stand-in's (an actor moved to a fresh thread keeps counting).
 */
export { PROGRESS_HOOK, START_INCARNATION };

/** How a child ended: it crashed, or it exited normally (`ctx.stop()`). */
export type Exit = 'crash' | 'normal';

/** A child whose end a delegated steward reports. */
export interface DelegatedChild {
  readonly id: string;
  /** The actor type's name, or `steward`. */
  readonly typeName: string;
}

/**
 * Makes a steward's decisions elsewhere: an actor host's steward (on a worker thread) reports
 * its children's failures to the steward on the main thread, which decides and tells it what to
 * do. `decide` gives the provisional decision that goes into the local error.
 */
export interface StewardDelegate {
  decide(child: DelegatedChild, exit: Exit): RestartDecision;
  act(child: DelegatedChild, decision: RestartDecision, reason: RestartCause, cause: Error | null): void;
}

/** The version of the seam. A host checks it (`seam.version`) and refuses a core it was not built for. */
export const HOST_SEAM_VERSION = 1;

/** What a host needs to build the actor's own state and limits on its side. */
export interface HostedActorSettings {
  readonly id: string;
  readonly args: unknown;
  readonly incarnation: number;
  /** The mailbox capacity: how many messages may be in flight to the host at once. */
  readonly capacity: number;
  /** No progress in one turn for this long is a hang (the actor's, else its steward's). */
  readonly hangTimeoutMs: number;
  /** The steward's sweep period. */
  readonly sweepMs: number;
  readonly stopTimeoutMs: number;
}

/** A message forwarded from a stand-in: its reply channel (null for a tell) and the caller's transfer list. */
export interface Forwarded {
  readonly reply: DeferredReply<unknown> | null;
  readonly transfer: readonly Transferable[] | undefined;
}

/**
 * What core offers an actor host, for one system: the one door into core's internals for hosts.
 * Every ref and reply given to it must belong to that system (`INVALID_ARGUMENT` otherwise).
 */
export interface HostSeam {
  /** {@link HOST_SEAM_VERSION} of the core that made it. */
  readonly version: typeof HOST_SEAM_VERSION;
  readonly system: ActorSystem;

  // ---------------------------------------------------------------- the stand-in's side

  /**
   * The reply channel of the message whose handler is running now, taken out of the turn for
   * good: like `ctx.defer()`, but the reply belongs to the actor rather than the incarnation, so
   * a restart does not fail it (the message is still queued on the host); a final stop fails it
   * with `ACTOR_STOPPED`. Only from a handler, synchronously: elsewhere it throws
   * `INVALID_ARGUMENT`. The reply is null for a tell.
   */
  forward(): Forwarded;
  /** The spawn arguments and limits of an actor, for its host. */
  settings(ref: ActorRef): HostedActorSettings;
  /** The host the actor was spawned on, or null. */
  hostOf(ref: ActorRef): ActorHost | null;
  /** Progress for the actor's running turn (what `ctx.heartbeat()` does), for a stand-in waiting on its host. */
  heartbeat(ref: ActorRef): void;
  /**
   * Answer a forwarded reply with a value the host has already checked against the reply schema.
   * False when the ask had settled (timed out, cancelled): the value is dropped and counted late.
   */
  deliver(reply: DeferredReply<unknown>, value: unknown): boolean;
  /** How long the caller of a forwarded reply still waits (its deadline minus now, in ms; may be ≤ 0). */
  remainingMs(reply: DeferredReply<unknown>): number;
  /** True when the caller passed an `AbortSignal`, so the host must be told when it aborts. */
  callerMayCancel(reply: DeferredReply<unknown>): boolean;
  /**
   * The actor's incarnation failed on the host (its handler threw, it hung, or the host lost it).
   * Its steward decides as for any crash; `reply` is the caller of the failed message, which gets
   * `ACTOR_CRASHED` with the decision. False when the actor is not running.
   */
  crash(ref: ActorRef, error: Error, reason: CrashReason, reply: DeferredReply<unknown> | null): boolean;
  /** The actor ended normally on the host (`ctx.stop()` there): its steward decides. */
  exit(ref: ActorRef): void;

  // ---------------------------------------------------------------- what the host reports

  /** A message the host could not deliver or dropped: counted, and on `system.deadLetters`. */
  deadLetter(ref: ActorRef, letter: Omit<DeadLetter, 'actor' | 'at'>): void;
  /** A reply that came after its ask had settled, on the host: counted, and a `late-reply` event. */
  lateReply(ref: ActorRef, message: string): void;
  /** A failure on the host that reaches no caller: an `error` event. */
  error(ref: ActorRef, where: string, error: Error): void;
  /** The host found a turn hung: a `hung` event (the crash itself comes through {@link crash}). */
  hung(ref: ActorRef, message: string, silentMs: number, timeoutMs: number): void;

  // ---------------------------------------------------------------- the host's side

  /**
   * Queue an ask on the host's side of an actor: the message came over a boundary with its input
   * already checked; the outcome goes to `resolve` or `reject` (no promise). Unknown message
   * names are refused through `reject`.
   */
  ask(
    ref: ActorRef,
    message: string,
    input: unknown,
    timeoutMs: number,
    signal: AbortSignal | null,
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
  ): void;
  /**
   * A steward under the root whose children's failures are reported to `delegate` instead of
   * decided here (the host's side of an actor: the steward that decides is the stand-in's, and
   * it logs the crash). It still sweeps its children for hung turns.
   */
  delegatedSteward(name: string, options: StewardOptions, delegate: StewardDelegate): Steward;
  /**
   * Run the actors that have work now, instead of from the microtask queued for them: a host that
   * has just queued a batch from another thread gets the synchronous replies out before its event
   * loop turns.
   */
  runReady(): void;
  /** End the actor's incarnation (fence its turn, run `onStop`) and keep it down, its mailbox kept. */
  terminate(ref: ActorRef, reason: StopReason, cause: Error | null): Promise<void>;
  /** End the actor's incarnation at its next turn boundary (the running turn finishes first), keeping its mailbox. */
  endAtBoundary(ref: ActorRef, reason: StopReason): Promise<void>;
  /** Start the next incarnation of an actor ended with {@link terminate}. */
  reincarnate(ref: ActorRef): void;
  /** Stop the actor for good: its queued asks fail with `ACTOR_STOPPED` (`reason`). */
  stopFor(ref: ActorRef, reason: StopReason, cause: Error | null): Promise<void>;
}

/** The seam of `system` (one per system). */
export function hostSeam(system: ActorSystem): HostSeam {
  return seamOf(system);
}
