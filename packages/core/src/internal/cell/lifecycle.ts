// Lifecycle: an actor starts (init, onStart), crashes (its steward decides at once and the actor
// goes down so nothing more runs on broken state), exits normally (ctx.stop()), restarts (onStop,
// then a new incarnation from init, same id, ref and queue) and stops for good (what waits fails,
// onStop runs, the id is forgotten). A running turn that must end early is fenced: its caller
// is failed, its signal aborts, and whatever it does later reaches no one.
import type { TimerHandle } from '../../Clock.js';
import { ActorCrashed, ActorStopped, type CrashReason, type RestartDecision, type StopReason, toError } from '../../errors.js';
import { enterSync, leaveSync, runAsync } from '../callChain.js';
import { contextFor } from '../HandlerContext.js';
import { HookContext } from '../HookContext.js';
import { type MessageTurn, ReplyChannel } from '../ReplyChannel.js';
import { deadLetter, SendWaiter } from './admission.js';
import type { Cell } from './Cell.js';
import { dropUncommitted } from './durableSlot.js';
import { restartDurable } from './durableWake.js';
import { AsyncFunction } from './handlers.js';
import { GATE_CLOSED, GATE_DOWN, GATE_ZOMBIE, RESTARTING, RUNNING, rareOf, STARTING, STOPPED, STOPPING } from './parts.js';
import { requestStop, runSystemMessages } from './systemMessages.js';

/** Build the first incarnation. Throws (an `ACTOR_CRASHED`) when `init` throws. */
export function startCell(cell: Cell): void {
  try {
    cell.state = (cell.def.behaviour.init as (a: unknown) => unknown)(cell.args);
  } catch (e) {
    cell.status = STOPPED;
    cell.gate = 1;
    const crash = new ActorCrashed({ actor: cell.id, message: null, reason: 'start-failed', decision: 'stop', incarnation: 1 }, toError(e));
    // Sent to while init ran (its id is known from the start): nothing waits on an actor that never was.
    failQueued(cell, () => crash);
    throw crash;
  }
  cell.live = true;
  // Made now, not in the constructor: a host may have set the starting incarnation.
  cell.ctx = contextFor(cell);
  // Events are made only for listeners: a spawn with nobody listening pays a count.
  const events = cell.core.eventStream;
  if (events.listenerCount === 0) events.tally();
  else events.emit({ type: 'spawned', actor: cell.id, actorType: cell.def.name, at: cell.core.clock.now() });
  startIncarnation(cell);
}

export function startIncarnation(cell: Cell): void {
  const onStart = cell.def.behaviour.onStart;
  if (onStart === undefined) {
    started(cell);
    return;
  }
  const ctx = new HookContext(cell);
  let result: unknown;
  try {
    result = runHook(ctx, () => onStart.call(cell.def.behaviour, cell.state, ctx), onStart);
  } catch (e) {
    crashedOutsideTurn(cell, toError(e), 'start-failed', ctx);
    return;
  }
  if (isThenable(result)) {
    cell.busy = true;
    result.then(
      () => {
        if (ctx.fenced) return;
        cell.busy = false;
        started(cell);
      },
      (e: unknown) => {
        if (ctx.fenced) return;
        cell.busy = false;
        crashedOutsideTurn(cell, toError(e), 'start-failed', ctx);
      },
    );
    return;
  }
  started(cell);
}

export function started(cell: Cell): void {
  if (cell.status >= STOPPING) return;
  cell.status = RUNNING;
  const events = cell.core.eventStream;
  if (events.listenerCount === 0) events.tally();
  else events.emit({ type: 'started', actor: cell.id, actorType: cell.def.name, incarnation: cell.incarnation, at: cell.core.clock.now() });
  if (cell.ready) cell.core.dispatcher.schedule(cell);
  // Restarted during a drain with nothing queued: the drain may be done.
  else if (cell.core.draining) cell.core.noteIdle();
}

/**
 * The incarnation failed: its steward decides at once (the decision goes into the caller's
 * error), the actor goes down so that nothing more runs on the broken state, and the steward
 * carries the decision out.
 */
export function crash(cell: Cell, turn: MessageTurn | null, error: Error, reason: CrashReason): void {
  const parent = cell.parent;
  const decision: RestartDecision = cell.status >= STOPPING || parent === null ? 'stop' : parent.decide(cell, 'crash');
  const crash = new ActorCrashed({ actor: cell.id, message: turn?.msg.name ?? null, reason, decision, incarnation: cell.incarnation }, error);
  cell.core.counters.crashes++;
  if (turn instanceof ReplyChannel && !turn.settled) turn.failWith(crash);
  // A durable actor's state since its last commit is thrown away with what it held.
  if (cell.durable !== null) dropUncommitted(cell, crash);
  cell.core.emit({
    type: 'crashed',
    actor: cell.id,
    actorType: cell.def.name,
    incarnation: cell.incarnation,
    reason,
    message: turn?.msg.name ?? null,
    error,
    decision,
    at: cell.core.clock.now(),
  });
  // The steward that decides logs the crash: one whose decisions are made elsewhere (a host's
  // side of an actor) leaves it to the stand-in's, which logs it with the real decision.
  if (parent?.delegate == null) cell.log.error({ err: error, message: turn?.msg.name ?? null, reason, decision }, 'actor crashed');
  if (cell.status >= STOPPING) return;
  goDown(cell, crash);
  if (parent !== null) parent.act(cell, decision, reason, crash);
  else void stopForGood(cell, 'gave-up', crash);
}

export function crashedOutsideTurn(cell: Cell, error: Error, reason: CrashReason, ctx: HookContext): void {
  ctx.abandon();
  crash(cell, null, error, reason);
}

/** The actor exits normally (`ctx.stop()`): its steward restarts it only if it is `permanent`. */
export function exitNormally(cell: Cell): void {
  if (cell.status !== RUNNING) return;
  const parent = cell.parent;
  const decision: RestartDecision = parent === null ? 'stop' : parent.decide(cell, 'normal');
  if (parent?.delegate == null) cell.log.info({ decision }, 'actor exited');
  goDown(cell, new ActorStopped(cell.id, 'normal'));
  if (parent !== null) parent.act(cell, decision, 'normal', null);
  else void stopForGood(cell, 'normal', null);
}

/**
 * Take the actor down: nothing more runs on this incarnation, the running turn (a hung one) is
 * fenced, and arriving messages are held or refused by the steward's policy until a restart.
 */
export function goDown(cell: Cell, cause: Error): void {
  cell.status = RESTARTING;
  cell.busy = true;
  fenceCurrent(cell, cause);
  cell.ctx?.fence(cause);
  if (cell.parent?.opts.whileDown === 'refuse') cell.gate |= GATE_DOWN;
}

/**
 * @internal A crash found outside a turn of this thread: the actor's host reports that the
 * incarnation failed (its handler threw on the host, or the host lost it). The steward decides
 * as for any crash; `reply`, when given, is the caller of the failed message. False when the
 * actor is not running (it is down or stopping already: nothing to decide).
 */
export function crashFromOutside(cell: Cell, reply: ReplyChannel | null, error: Error, reason: CrashReason): boolean {
  if (cell.status !== RUNNING) return false;
  crash(cell, reply, error, reason);
  return true;
}

/**
 * The steward's sweep found the running turn silent for `silentMs`: fail its caller with
 * `ACTOR_CRASHED` (reason `hung`), abort its signal, fence it, and restart.
 */
export function onHung(cell: Cell, silentMs: number, timeoutMs: number): void {
  const channel = cell.current;
  if (channel === null || cell.status !== RUNNING) return;
  cell.core.emit({
    type: 'hung',
    actor: cell.id,
    actorType: cell.def.name,
    incarnation: cell.incarnation,
    message: channel.msg.name,
    silentMs,
    timeoutMs,
    at: cell.core.clock.now(),
  });
  const error = new Error(`no progress for ${Math.round(silentMs)} ms in '${channel.msg.name}' (heartbeat timeout ${timeoutMs} ms)`);
  crash(cell, channel, error, 'hung');
}

/** Cut off the running turn (if any): its caller gets `err`, its signal aborts, its outcome is dropped. */
export function fenceCurrent(cell: Cell, err: Error): void {
  const channel = cell.current;
  if (channel === null) return;
  cell.current = null;
  cell.parent?.inTurn.delete(cell);
  channel.fenced = true;
  channel.done = true;
  // It may go on running: from now on it is a zombie whose sends to this actor are refused.
  rareOf(cell).zombies++;
  cell.gate |= GATE_ZOMBIE;
  // A reply forwarded to a host belongs to the actor, not to this turn: it is not failed.
  const kept = channel instanceof ReplyChannel && channel.kept;
  if (!kept) {
    if (channel instanceof ReplyChannel && !channel.settled) channel.failWith(err);
    channel.abortTurn(err);
  }
  // The turn's ctx belongs to its incarnation, which ends with it: a tell's signal aborts too.
  cell.ctx?.fence(kept ? undefined : err);
}

/** End the current incarnation: cancel its timers, fail its deferred replies, run onStop. */
export async function endIncarnation(cell: Cell, reason: StopReason, cause: Error | null): Promise<void> {
  if (cell.current !== null) fenceCurrent(cell, new ActorStopped(cell.id, reason, cause ?? undefined));
  if (!cell.live) return;
  cell.live = false;
  cell.ctx?.fence(cause, reason);
  const rare = cell.rare;
  if (rare?.timers) {
    for (const t of rare.timers) cell.core.clock.clearTimeout(t);
    rare.timers = null;
  }
  if (rare?.deferred) {
    const pending = [...rare.deferred];
    rare.deferred = null;
    const err = cause ?? new ActorStopped(cell.id, reason);
    for (const channel of pending) {
      // Forwarded to a host: it outlives the incarnation (a final stop fails it).
      if (channel.kept) (rare.deferred ??= new Set()).add(channel);
      else channel.failWith(err);
    }
  }
  const onStop = cell.def.behaviour.onStop;
  if (onStop !== undefined) {
    const ctx = new HookContext(cell);
    try {
      const r = runHook(ctx, () => onStop.call(cell.def.behaviour, cell.state, ctx, reason), onStop);
      if (isThenable(r)) await bounded(cell, r, cell.opts.stopTimeoutMs, 'onStop');
    } catch (e) {
      reportError(cell, 'onStop', toError(e));
    }
    ctx.abandon();
  }
  if (cell.rare !== null) cell.rare.log = null;
}

export async function bounded(cell: Cell, p: PromiseLike<unknown>, ms: number, what: string): Promise<void> {
  let timer: TimerHandle | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = cell.core.clock.setTimeout(() => resolve('timeout'), ms);
  });
  try {
    const r = await Promise.race([Promise.resolve(p).then(() => 'ok' as const), timeout]);
    if (r === 'timeout') reportError(cell, what, new Error(`${what} of '${cell.id}' did not finish within ${ms} ms; abandoned`));
  } catch (e) {
    reportError(cell, what, toError(e));
  } finally {
    if (timer !== undefined) cell.core.clock.clearTimeout(timer);
  }
}

export function reportError(cell: Cell, where: string, error: Error): void {
  cell.core.emit({ type: 'error', actor: cell.id, actorType: cell.def.name, incarnation: cell.incarnation, where, error, at: cell.core.clock.now() });
  cell.log.error({ err: error, where }, `${where} failed`);
}

/** Supervised: end this incarnation and stay down (keeping id, ref and queued messages). */
export function terminateIncarnation(cell: Cell, reason: StopReason, cause: Error | null): Promise<void> {
  if (cell.status >= STOPPING) return Promise.resolve();
  if (cell.status !== RESTARTING) goDown(cell, cause ?? new ActorStopped(cell.id, reason));
  const rare = rareOf(cell);
  if (rare.ending !== null) return rare.ending;
  if (!cell.live) return Promise.resolve();
  const ending = endIncarnation(cell, reason, cause).finally(() => {
    rare.ending = null;
  });
  rare.ending = ending;
  return ending;
}

/** Supervised: start the next incarnation with fresh state from `init`. */
export function startNextIncarnation(cell: Cell): void {
  if (cell.status !== RESTARTING) return;
  cell.incarnation++;
  cell.ctx = contextFor(cell);
  const rare = rareOf(cell);
  rare.restarts++;
  cell.core.counters.restarts++;
  if (cell.durable !== null) {
    restartDurable(cell);
    return;
  }
  try {
    cell.state = (cell.def.behaviour.init as (a: unknown) => unknown)(cell.args);
  } catch (e) {
    crash(cell, null, toError(e), 'start-failed');
    return;
  }
  cell.live = true;
  cell.busy = false;
  cell.status = STARTING;
  restarted(cell);
}

/** The next incarnation has its state: announce it and start it (onStart, then its messages). */
export function restarted(cell: Cell): void {
  cell.gate &= ~GATE_DOWN;
  cell.core.emit({
    type: 'restarted',
    actor: cell.id,
    actorType: cell.def.name,
    incarnation: cell.incarnation,
    restarts: cell.restarts,
    at: cell.core.clock.now(),
  });
  startIncarnation(cell);
}

/** Supervised: stop for good. */
export function stopFor(cell: Cell, reason: StopReason, cause: Error | null): Promise<void> {
  return stopForGood(cell, reason, cause);
}

/** A restart asked for from outside (`system.restart`): not counted against any limit. */
export async function restartNow(cell: Cell): Promise<void> {
  await terminateIncarnation(cell, 'restarting', null);
  startNextIncarnation(cell);
}

/** Stop for good: fail what waits, run onStop, forget the id. */
export async function stopForGood(cell: Cell, reason: StopReason, cause: Error | null): Promise<void> {
  if (cell.status >= STOPPING) return requestStop(cell, reason);
  const wasDown = cell.status === RESTARTING;
  cell.status = STOPPING;
  cell.gate |= GATE_CLOSED;
  rareOf(cell).stopReason = reason;
  cell.busy = true;
  // Built only when someone is waiting: an error captures a stack trace, and most stops fail no one.
  let err = failQueued(cell, () => new ActorStopped(cell.id, reason, cause ?? undefined));
  if (cell.waiters !== null) {
    for (const w of cell.waiters.drain()) {
      if (w instanceof SendWaiter) w.settle((err ??= new ActorStopped(cell.id, reason, cause ?? undefined)));
      else if (!w.settled) w.failWith((err ??= new ActorStopped(cell.id, reason, cause ?? undefined)));
    }
  }
  if (wasDown && cell.rare?.ending) await cell.rare.ending;
  await endIncarnation(cell, reason, cause);
  const rare = cell.rare;
  if (rare?.deferred) {
    const kept = rare.deferred;
    rare.deferred = null;
    for (const channel of kept) channel.failWith((err ??= new ActorStopped(cell.id, reason, cause ?? undefined)));
  }
  cell.status = STOPPED;
  cell.busy = false;
  cell.durable?.durability.forget(cell);
  cell.parent?.remove(cell);
  cell.core.unregister(cell, cell.id);
  if (reason === 'gave-up') {
    cell.core.emit({
      type: 'gave-up',
      actor: cell.id,
      actorType: cell.def.name,
      incarnation: cell.incarnation,
      restarts: cell.restarts,
      withinMs: cell.opts.withinMs,
      at: cell.core.clock.now(),
    });
  }
  cell.core.emit({ type: 'stopped', actor: cell.id, actorType: cell.def.name, incarnation: cell.incarnation, reason, at: cell.core.clock.now() });
  const waiting = cell.rare?.stopped ?? null;
  if (cell.rare !== null) cell.rare.stopped = null;
  if (waiting !== null) for (const done of waiting) done();
  if (cell.sys !== null) runSystemMessages(cell);
  if (cell.core.draining) cell.core.noteIdle();
}

/** Refuse outside senders from now on (the actor stops, or the system drains). */
export function closeGate(cell: Cell): void {
  cell.gate |= GATE_CLOSED;
}

/** Give up on a turn that does not end (shutdown past its deadline): fence it and stop. */
export function abandonCell(cell: Cell): Promise<void> {
  if (cell.status >= STOPPING) return requestStop(cell, 'shutdown');
  fenceCurrent(cell, new ActorStopped(cell.id, 'shutdown'));
  cell.busy = false;
  return stopForGood(cell, 'shutdown', null);
}

/**
 * Empty the mailbox of an actor that will not run it: its asks fail with `error()` (made on first
 * need: an error captures a stack trace, and most stops fail no one), its tells become dead
 * letters. Returns the error if one was made.
 */
function failQueued<E extends Error>(cell: Cell, error: () => E): E | null {
  let err: E | null = null;
  for (const m of cell.mailbox.drain()) {
    if (m.ask !== null) {
      if (!m.ask.settled) m.ask.failWith((err ??= error()));
    } else {
      deadLetter(cell, m.msg.name, m.input, 'stopped', false);
    }
  }
  return err;
}

/** Run a hook as part of its own turn, so that the asks it makes count as in-flight work. */
function runHook<R>(ctx: HookContext, fn: () => R, hook: unknown): R {
  const prev = enterSync(ctx);
  try {
    return hook instanceof AsyncFunction ? runAsync(ctx, fn) : fn();
  } finally {
    leaveSync(prev);
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as PromiseLike<unknown>).then === 'function';
}
