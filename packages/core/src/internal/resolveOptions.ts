// Option resolution: what an actor or a steward runs with, from its own options, its type's,
// its parent's and the system's, down to core's defaults; each resolved set is checked once
// (INVALID_ARGUMENT naming the bad value) and frozen.

import type { ActorDefinition } from '../defineActor.js';
import { InvalidArgument, toError } from '../errors.js';
import type { Logger } from '../Logger.js';
import {
  type ActorOptions,
  DEFAULTS,
  defaultSweepMs,
  type ResolvedActorOptions,
  type StewardOptions,
  type SystemOptions,
  type TurnObserver,
} from '../options.js';
import type { ResolvedStewardOptions, StewardNode } from './StewardNode.js';
import type { ObserverState } from './SystemCore.js';

/** Spawned with none of the options that change how an actor runs (its type's and the system's apply). */
export function hasNoActorOptions(o: ActorOptions): boolean {
  return (
    o.mailbox === undefined &&
    o.askTimeoutMs === undefined &&
    o.restart === undefined &&
    o.intensity === undefined &&
    o.validate === undefined &&
    o.stopTimeoutMs === undefined &&
    o.heartbeat === undefined
  );
}

/**
 * An actor's options: the spawn call's, else its type's, else the system's, else core's defaults.
 * (Spawns without options of their own share one result per type: the system keeps it with the
 * type's other shared parts, see CellType.)
 */
export function resolveActorOptions(def: ActorDefinition, o: ActorOptions, defaults: SystemOptions): ResolvedActorOptions {
  const d = defaults;
  const t = def.behaviour.options ?? {};
  const resolved: ResolvedActorOptions = Object.freeze({
    capacity: o.mailbox?.capacity ?? t.mailbox?.capacity ?? d.mailbox?.capacity ?? DEFAULTS.capacity,
    overflow: o.mailbox?.overflow ?? t.mailbox?.overflow ?? d.mailbox?.overflow ?? DEFAULTS.overflow,
    askTimeoutMs: o.askTimeoutMs ?? t.askTimeoutMs ?? d.askTimeoutMs ?? DEFAULTS.askTimeoutMs,
    restart: o.restart ?? t.restart ?? d.restart ?? DEFAULTS.restart,
    maxRestarts: o.intensity?.maxRestarts ?? t.intensity?.maxRestarts ?? d.intensity?.maxRestarts ?? DEFAULTS.maxRestarts,
    withinMs: o.intensity?.withinMs ?? t.intensity?.withinMs ?? d.intensity?.withinMs ?? DEFAULTS.withinMs,
    validateInput: o.validate?.input ?? t.validate?.input ?? d.validate?.input ?? true,
    validateReply: o.validate?.reply ?? t.validate?.reply ?? d.validate?.reply ?? process.env.NODE_ENV !== 'production',
    stopTimeoutMs: o.stopTimeoutMs ?? t.stopTimeoutMs ?? DEFAULTS.stopTimeoutMs,
    hangTimeoutMs: o.heartbeat?.timeoutMs ?? t.heartbeat?.timeoutMs,
  });
  checkOptions(resolved);
  return resolved;
}

/** A steward's options: its own, else its parent steward's (heartbeat, whileDown), else core's defaults. */
export function resolveStewardOptions(o: StewardOptions, parent: StewardNode | null): ResolvedStewardOptions {
  const hangTimeoutMs = o.heartbeat?.timeoutMs ?? parent?.opts.hangTimeoutMs ?? DEFAULTS.hangTimeoutMs;
  const sweepMs = o.heartbeat?.sweepMs ?? (o.heartbeat?.timeoutMs === undefined ? parent?.opts.sweepMs : undefined) ?? defaultSweepMs(hangTimeoutMs);
  const resolved: ResolvedStewardOptions = Object.freeze({
    strategy: o.strategy ?? 'one-for-one',
    maxRestarts: o.intensity?.maxRestarts ?? DEFAULTS.maxRestarts,
    withinMs: o.intensity?.withinMs ?? DEFAULTS.withinMs,
    backoff: o.backoff ?? null,
    hangTimeoutMs,
    sweepMs,
    whileDown: o.whileDown ?? parent?.opts.whileDown ?? 'hold',
    restart: o.restart ?? 'permanent',
  });
  checkStewardOptions(resolved);
  return resolved;
}

export function observerState(o: TurnObserver | undefined, logger: Logger): ObserverState | null {
  if (o === undefined) return null;
  const every = o.sampleEvery ?? 16;
  if (!Number.isInteger(every) || every < 1) throw new InvalidArgument(`turnObserver.sampleEvery must be a positive integer, got ${every}`);
  if (typeof o.observe !== 'function') throw new InvalidArgument('turnObserver.observe must be a function');
  const observe = (type: string, message: string, ms: number) => {
    try {
      o.observe(type, message, ms);
    } catch (e) {
      // Metrics must never break a turn: report and go on.
      logger.error({ err: toError(e) }, 'turnObserver.observe threw');
    }
  };
  return { every, countdown: every, observe };
}

function checkOptions(o: ResolvedActorOptions): void {
  if (!Number.isInteger(o.capacity) || o.capacity < 1) throw new InvalidArgument(`mailbox.capacity must be a positive integer, got ${o.capacity}`);
  if (!['reject', 'drop-oldest', 'wait'].includes(o.overflow))
    throw new InvalidArgument(`mailbox.overflow must be reject, drop-oldest or wait, got ${o.overflow}`);
  if (!(o.askTimeoutMs > 0) || !Number.isFinite(o.askTimeoutMs))
    throw new InvalidArgument(`askTimeoutMs must be a positive finite number, got ${o.askTimeoutMs}`);
  if (!['permanent', 'transient', 'temporary'].includes(o.restart))
    throw new InvalidArgument(`restart must be permanent, transient or temporary, got ${o.restart}`);
  if (!Number.isInteger(o.maxRestarts) || o.maxRestarts < 0) throw new InvalidArgument(`intensity.maxRestarts must be an integer >= 0, got ${o.maxRestarts}`);
  if (!(o.withinMs > 0)) throw new InvalidArgument(`intensity.withinMs must be > 0, got ${o.withinMs}`);
  if (!(o.stopTimeoutMs > 0)) throw new InvalidArgument(`stopTimeoutMs must be > 0, got ${o.stopTimeoutMs}`);
  if (o.hangTimeoutMs !== undefined && !(o.hangTimeoutMs > 0)) throw new InvalidArgument(`heartbeat.timeoutMs must be > 0, got ${o.hangTimeoutMs}`);
}

function checkStewardOptions(o: ResolvedStewardOptions): void {
  if (!['one-for-one', 'one-for-all', 'rest-for-one'].includes(o.strategy))
    throw new InvalidArgument(`strategy must be one-for-one, one-for-all or rest-for-one, got ${o.strategy}`);
  if (!Number.isInteger(o.maxRestarts) || o.maxRestarts < 0) throw new InvalidArgument(`intensity.maxRestarts must be an integer >= 0, got ${o.maxRestarts}`);
  if (!(o.withinMs > 0)) throw new InvalidArgument(`intensity.withinMs must be > 0, got ${o.withinMs}`);
  if (!(o.hangTimeoutMs > 0)) throw new InvalidArgument(`heartbeat.timeoutMs must be > 0, got ${o.hangTimeoutMs}`);
  if (!(o.sweepMs > 0) || !Number.isFinite(o.sweepMs)) throw new InvalidArgument(`heartbeat.sweepMs must be a positive finite number, got ${o.sweepMs}`);
  if (!['hold', 'refuse'].includes(o.whileDown)) throw new InvalidArgument(`whileDown must be hold or refuse, got ${o.whileDown}`);
  if (!['permanent', 'transient', 'temporary'].includes(o.restart))
    throw new InvalidArgument(`restart must be permanent, transient or temporary, got ${o.restart}`);
  const b = o.backoff;
  if (b !== null) {
    if (!(b.minMs >= 0) || !(b.maxMs >= b.minMs) || !Number.isFinite(b.maxMs))
      throw new InvalidArgument(`backoff: need 0 <= minMs <= maxMs (finite), got ${JSON.stringify(b)}`);
    if (b.factor !== undefined && !(b.factor >= 1)) throw new InvalidArgument(`backoff.factor must be >= 1, got ${b.factor}`);
    if (b.jitter !== undefined && !(b.jitter >= 0 && b.jitter <= 1)) throw new InvalidArgument(`backoff.jitter must be in [0, 1], got ${b.jitter}`);
  }
}
