/**
 * `@holdfast/core/host`: the hooks an actor host (such as `@holdfast/workers`) needs to run actors
 * somewhere other than the calling thread with the same semantics. Applications do not need it.
 *
 * An actor on a host has a stand-in on the calling thread: an ordinary actor whose handlers
 * forward each message to the host with {@link forwardCurrent} and deliver the answer later. The
 * stand-in keeps the mailbox, the deadlines, validation and supervision; the host reports
 * failures back with {@link crashActor} and {@link exitActor}, and the steward decides.
 * @module @holdfast/core/host
 */
import type { Transferable } from 'node:worker_threads';
import type { ActorHost } from './ActorHost.js';
import { type ActorRef, cellOf } from './ActorRef.js';
import { type ActorSystem, DELEGATED_STEWARD, PROGRESS_HOOK, RUN_READY, START_INCARNATION } from './createSystem.js';
import type { DeferredReply } from './defineActor.js';
import { messageIn } from './defineProtocol.js';
import { type CrashReason, InvalidMessage, type StopReason } from './errors.js';
import type { Cell } from './internal/Cell.js';

export { checkKeys, type KeyShape, keysOf } from './internal/checkKeys.js';
/** Core's defaults (ask timeout, hang timeout, mailbox capacity, …), for hosts that must agree with them. */
export { DEFAULTS } from './options.js';

import { syncState } from './internal/callChain.js';
import type { Envelope } from './internal/Envelope.js';
import type { StewardDelegate } from './internal/StewardNode.js';
import { DEFAULTS, defaultSweepMs, type StewardOptions } from './options.js';
import type { Steward } from './Steward.js';

export type { Exit, StewardDelegate } from './internal/StewardNode.js';
export type { Supervised } from './internal/Supervised.js';
/**
 * A spawn option for an actor's host side: the incarnation it starts at, so that `ctx.incarnation`
 * there matches its stand-in's (an actor moved to a fresh thread keeps counting).
 */
/**
 * A system option for an actor host's own system: a function called on every `ctx.heartbeat()`,
 * so that a long turn that proves progress keeps the host's thread heartbeat going too.
 */
export { PROGRESS_HOOK, START_INCARNATION };

/**
 * Queue an ask on the host's side of an actor: the message came over a thread boundary with its
 * input already checked; the outcome goes to `resolve` or `reject` (no promise). Unknown message
 * names are refused through `reject`.
 */
export function hostAsk(
  ref: ActorRef,
  message: string,
  input: unknown,
  timeoutMs: number,
  signal: AbortSignal | null,
  resolve: (value: unknown) => void,
  reject: (error: unknown) => void,
): void {
  const cell = cellOf(ref);
  const msg = messageIn(cell.table, message);
  if (msg === undefined) {
    reject(InvalidMessage.unknownMessage(cell.id, cell.def.protocol.name, message));
    return;
  }
  cell.hostAsk(msg, input, timeoutMs, signal, resolve, reject);
}

/**
 * The reply channel of the message whose handler is running now (synchronously), taken out of
 * the turn for good: like `ctx.defer()`, but the reply belongs to the actor rather than the
 * incarnation, so a restart does not fail it (the message was forwarded and is still queued on
 * the host); a final stop fails it with `ACTOR_STOPPED`. For a handler that takes no `ctx` (no
 * turn context is made per message). The reply is null for a tell; `transfer` is the caller's list.
 */
export function forwardCurrent(): { readonly reply: DeferredReply<unknown> | null; readonly transfer: readonly Transferable[] | undefined } {
  const cell = syncState.cell as Cell | null;
  const env = cell?.runningAsk() ?? null;
  if (env === null) return { reply: null, transfer: undefined };
  env.kept = true;
  if (!env.deferred) {
    env.deferred = true;
    if (!env.settled) (cell as Cell).trackDeferred(env);
  }
  return { reply: env as DeferredReply<unknown>, transfer: env.extra?.transfer };
}

/** Count progress for the actor's running turn (what `ctx.heartbeat()` does), for a handler without `ctx`. */
export function heartbeatOf(ref: ActorRef): void {
  const cell = cellOf(ref);
  cell.beats++;
  cell.hbAt = cell.core.clock.now();
}

/**
 * Answer a forwarded reply with a value the host has already checked against the reply schema.
 * False when the ask had settled (timed out, cancelled): the value is dropped and counted late.
 */
export function deliverReply<R>(reply: DeferredReply<R>, value: R): boolean {
  return (reply as unknown as Envelope).succeed(value);
}

/** How long the caller of a forwarded reply still waits (its deadline minus now, in ms; may be ≤ 0). */
export function remainingMs(reply: DeferredReply<unknown>): number {
  const env = reply as unknown as Envelope;
  return env.deadline - (env.host as Cell).core.clock.now();
}

/** True when the caller passed an `AbortSignal`, so the host must be told when it aborts. */
export function callerMayCancel(reply: DeferredReply<unknown>): boolean {
  return ((reply as unknown as Envelope).extra?.signal ?? null) !== null;
}

/**
 * The host reports that the actor's incarnation failed there (its handler threw, it hung, or
 * the host lost it). Its steward decides as for any crash; `reply` is the caller of the failed
 * message, which gets `ACTOR_CRASHED` with the decision. False when the actor is not running.
 */
export function crashActor(ref: ActorRef, error: Error, reason: CrashReason, reply: DeferredReply<unknown> | null): boolean {
  return cellOf(ref).crashFromOutside(reply as Envelope | null, error, reason);
}

/** The host reports that the actor ended normally (`ctx.stop()` there): its steward decides. */
export function exitActor(ref: ActorRef): void {
  cellOf(ref).requestExit();
}

/** The host the actor was spawned on, or null. */
export function hostOf(ref: ActorRef): ActorHost | null {
  return cellOf(ref).host;
}

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

/** The spawn arguments and limits of an actor, for its host. */
export function hostedSettings(ref: ActorRef): HostedActorSettings {
  const cell = cellOf(ref);
  const hangTimeoutMs = cell.opts.hangTimeoutMs ?? cell.parent?.opts.hangTimeoutMs ?? DEFAULTS.hangTimeoutMs;
  return {
    id: cell.id,
    args: cell.args,
    incarnation: cell.incarnation,
    capacity: cell.opts.capacity,
    hangTimeoutMs,
    sweepMs: Math.min(cell.parent?.sweepMs ?? defaultSweepMs(hangTimeoutMs), defaultSweepMs(hangTimeoutMs)),
    stopTimeoutMs: cell.opts.stopTimeoutMs,
  };
}

/**
 * A steward under `system`'s root whose children's failures are reported to `delegate` instead
 * of decided here (the host's side of an actor: the steward that decides is the stand-in's).
 * It still sweeps its children for hung turns.
 */
export function delegatedSteward(system: ActorSystem, name: string, options: StewardOptions, delegate: StewardDelegate): Steward {
  return system[DELEGATED_STEWARD](name, options, delegate);
}

/**
 * Run the actors that have work now, instead of from the microtask queued for them: a host that
 * has just queued a batch from another thread gets the synchronous replies out before its event
 * loop turns (one microtask round trip less per batch).
 */
export function runReady(system: ActorSystem): void {
  system[RUN_READY]();
}

/** End the actor's incarnation (fence its turn, run `onStop`) and keep it down, its mailbox kept. */
export function terminateActor(ref: ActorRef, reason: StopReason, cause: Error | null): Promise<void> {
  return cellOf(ref).terminate(reason, cause);
}

/**
 * End the actor's incarnation at its next turn boundary (the running turn finishes first; at once
 * when none runs), keeping its mailbox: a stop or restart asked for from outside.
 */
export function endActorAtBoundary(ref: ActorRef, reason: StopReason): Promise<void> {
  return cellOf(ref).endAtBoundary(reason);
}

/** Start the next incarnation of an actor ended with {@link terminateActor}. */
export function reincarnateActor(ref: ActorRef): void {
  cellOf(ref).reincarnate();
}

/** Stop the actor for good: its queued asks fail with `ACTOR_STOPPED` (`reason`). */
export function stopActorFor(ref: ActorRef, reason: StopReason, cause: Error | null): Promise<void> {
  return cellOf(ref).stopFor(reason, cause);
}
