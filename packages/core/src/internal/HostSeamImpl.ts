// The host seam (see `host.ts` for the contract): one object per system, the only place where a
// host's calls meet the cells, reply channels and stewards inside core.
import type { ActorHost } from '../ActorHost.js';
import { type ActorRef, cellOf } from '../ActorRef.js';
import type { ActorSystem } from '../createSystem.js';
import type { DeferredReply } from '../defineActor.js';
import { messageIn } from '../defineProtocol.js';
import { type CrashReason, InvalidArgument, InvalidMessage, type StopReason } from '../errors.js';
import type { DeadLetter } from '../events.js';
import type { Forwarded, HostedActorSettings, HostSeam, StewardDelegate } from '../host.js';
import { DEFAULTS, defaultSweepMs, type StewardOptions } from '../options.js';
import type { Steward } from '../Steward.js';
import { syncState } from './callChain.js';
import { hostAsk } from './cell/admission.js';
import type { Cell } from './cell/Cell.js';
import { ReplyChannel } from './ReplyChannel.js';
import { smallMs } from './smallInt.js';
import { internalsOf, type SystemInternals } from './systemInternals.js';

const seams = new WeakMap<ActorSystem, HostSeam>();

/** The seam of `system`, made on first use. */
export function seamOf(system: ActorSystem): HostSeam {
  let seam = seams.get(system);
  if (seam === undefined) {
    const internals = internalsOf(system);
    if (internals === undefined) throw new InvalidArgument('host seam: not an actor system made by this copy of @holdfast/core (two copies installed?)');
    seam = new HostSeamImpl(system, internals);
    seams.set(system, seam);
  }
  return seam;
}

class HostSeamImpl implements HostSeam {
  readonly version = 1 as const;
  readonly system: ActorSystem;
  readonly #internals: SystemInternals;

  constructor(system: ActorSystem, internals: SystemInternals) {
    this.system = system;
    this.#internals = internals;
  }

  /** The cell behind `ref`, which must be of this system. */
  #cell(ref: ActorRef): Cell {
    const cell = cellOf(ref);
    if (cell.core.facade !== this.system) throw new InvalidArgument(`host seam: ${String(ref)} belongs to another system than '${this.system.name}'`);
    return cell;
  }

  /** The reply channel behind a forwarded reply, which must be one. */
  #channel(reply: DeferredReply<unknown>): ReplyChannel {
    if (!(reply instanceof ReplyChannel)) throw new InvalidArgument('host seam: not a reply channel that forward() gave');
    return reply;
  }

  // ---------------------------------------------------------------- the stand-in's side

  forward(): Forwarded {
    const cell = syncState.cell as Cell | null;
    if (cell === null || !cell.inHandler || cell.core.facade !== this.system) {
      throw new InvalidArgument('host seam: forward() is for a handler of this system, called synchronously while it runs');
    }
    const channel = cell.runningAsk();
    if (channel === null) return { reply: null, transfer: undefined };
    channel.kept = true;
    if (!channel.deferred) {
      channel.deferred = true;
      if (!channel.settled) cell.trackDeferred(channel);
    }
    return { reply: channel, transfer: channel.extra?.transfer };
  }

  settings(ref: ActorRef): HostedActorSettings {
    const cell = this.#cell(ref);
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

  hostOf(ref: ActorRef): ActorHost | null {
    return this.#cell(ref).host;
  }

  heartbeat(ref: ActorRef): void {
    const cell = this.#cell(ref);
    cell.hbAt = smallMs(cell.core.clock.now());
  }

  deliver(reply: DeferredReply<unknown>, value: unknown): boolean {
    return this.#channel(reply).succeed(value);
  }

  remainingMs(reply: DeferredReply<unknown>): number {
    const channel = this.#channel(reply);
    return channel.deadline - (channel.host as Cell).core.clock.now();
  }

  callerMayCancel(reply: DeferredReply<unknown>): boolean {
    return (this.#channel(reply).extra?.signal ?? null) !== null;
  }

  crash(ref: ActorRef, error: Error, reason: CrashReason, reply: DeferredReply<unknown> | null): boolean {
    return this.#cell(ref).crashFromOutside(reply === null ? null : this.#channel(reply), error, reason);
  }

  exit(ref: ActorRef): void {
    this.#cell(ref).requestExit();
  }

  // ---------------------------------------------------------------- what the host reports

  deadLetter(ref: ActorRef, letter: Omit<DeadLetter, 'actor' | 'at'>): void {
    const cell = this.#cell(ref);
    cell.core.deadLetter({ ...letter, actor: cell.id, at: cell.core.clock.now() } as DeadLetter);
  }

  lateReply(ref: ActorRef, message: string): void {
    const cell = this.#cell(ref);
    cell.core.counters.lateReplies++;
    cell.core.emit({ type: 'late-reply', actor: cell.id, actorType: cell.def.name, message, at: cell.core.clock.now() });
  }

  error(ref: ActorRef, where: string, error: Error): void {
    const cell = this.#cell(ref);
    cell.core.emit({ type: 'error', actor: cell.id, actorType: cell.def.name, incarnation: cell.incarnation, where, error, at: cell.core.clock.now() });
  }

  hung(ref: ActorRef, message: string, silentMs: number, timeoutMs: number): void {
    const cell = this.#cell(ref);
    cell.core.emit({
      type: 'hung',
      actor: cell.id,
      actorType: cell.def.name,
      incarnation: cell.incarnation,
      message,
      silentMs,
      timeoutMs,
      at: cell.core.clock.now(),
    });
  }

  // ---------------------------------------------------------------- the host's side

  ask(
    ref: ActorRef,
    message: string,
    input: unknown,
    timeoutMs: number,
    signal: AbortSignal | null,
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
  ): void {
    const cell = this.#cell(ref);
    const msg = messageIn(cell.table, message);
    if (msg === undefined) {
      reject(InvalidMessage.unknownMessage(cell.id, cell.def.protocol.name, message));
      return;
    }
    hostAsk(cell, msg, input, timeoutMs, signal, resolve, reject);
  }

  delegatedSteward(name: string, options: StewardOptions, delegate: StewardDelegate): Steward {
    return this.#internals.delegatedSteward(name, options, delegate);
  }

  runReady(): void {
    this.#internals.core.dispatcher.runNow();
  }

  terminate(ref: ActorRef, reason: StopReason, cause: Error | null): Promise<void> {
    return this.#cell(ref).terminate(reason, cause);
  }

  endAtBoundary(ref: ActorRef, reason: StopReason): Promise<void> {
    return this.#cell(ref).endAtBoundary(reason);
  }

  reincarnate(ref: ActorRef): void {
    this.#cell(ref).reincarnate();
  }

  stopFor(ref: ActorRef, reason: StopReason, cause: Error | null): Promise<void> {
    return this.#cell(ref).stopFor(reason, cause);
  }
}
