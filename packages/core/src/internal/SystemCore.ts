import type { Clock } from '../Clock.js';
import type { ActorSystem } from '../createSystem.js';
import type { ActorDefinition } from '../defineActor.js';
import type { EventStream } from '../EventStream.js';
import type { DeadLetter, LifecycleEvent } from '../events.js';
import type { SystemCounters } from '../inspection.js';
import type { Logger } from '../Logger.js';
import type { Cell } from './cell/Cell.js';
import type { Placement } from './cluster/Placement.js';
import { Deadlines } from './Deadlines.js';
import { Dispatcher } from './Dispatcher.js';
import type { Durability } from './durable/Durability.js';
import type { IdRegistry, Registered } from './IdRegistry.js';

/** Counters kept by a system; read them with `system.stats()`. */

/** @internal A {@link TurnObserver} with its sampling state. */
export interface ObserverState {
  readonly every: number;
  countdown: number;
  readonly observe: (actorType: string, message: string, durationMs: number) => void;
}

/** @internal What the system passes to its core. */
export interface SystemCoreOptions {
  readonly name: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly facade: ActorSystem;
  readonly events: EventStream<LifecycleEvent>;
  readonly deadLetters: EventStream<DeadLetter>;
  /** The system's registries (the core forgets stopped actors and stewards in them). */
  readonly cells: IdRegistry<Registered>;
  readonly stewards: Map<string, { readonly id: string }>;
  readonly random: () => number;
  readonly wall: { readonly base: number; now: number };
  readonly observer: ObserverState | null;
  readonly progress: (() => void) | null;
  /** The cell serving a durable actor whose cell stopped (asleep): woken, or the existing one. */
  readonly wake: (stopped: Cell) => Cell | Error;
  /** The cell serving durable actor `id` of type `def`, woken when asleep. */
  readonly wakeFor: (def: ActorDefinition, id: string) => Cell | Error;
}

/**
 * @internal What a cell and a steward need of their system. A class, not an object of closures:
 * its methods are the same functions in every system, so the owner loop's calls to them stay
 * monomorphic when a process makes more than one system (tests, benchmarks, hosts).
 */
export class SystemCore {
  readonly name: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly deadlines: Deadlines;
  readonly dispatcher: Dispatcher;
  readonly facade: ActorSystem;
  readonly counters: SystemCounters = {
    asks: 0,
    turns: 0,
    timeouts: 0,
    cancelled: 0,
    lateReplies: 0,
    deadLetters: 0,
    crashes: 0,
    restarts: 0,
    rejectedInputs: 0,
    mailboxFull: 0,
    dropped: 0,
    deadlocks: 0,
  };
  /** True once shutdown has begun: outside callers are refused. */
  draining = false;
  /** The random source of backoff jitter. */
  readonly random: () => number;
  /**
   * Wall-clock time, refreshed every 250 ms (for "last turn" times, without a clock read per
   * turn): `now` is milliseconds since `base` (a Date.now() value), never 0.
   */
  readonly wall: { readonly base: number; now: number };
  /** Who receives turn durations, or null (then turns are not timed at all). */
  readonly observer: ObserverState | null;
  /** Called by `ctx.heartbeat()` (an actor host counts it as its thread's progress), or null. */
  readonly progress: (() => void) | null;
  /** The system's side of its store (durable actors), or null without one. */
  durability: Durability | null = null;
  /** In a cluster: which shards this node serves, and the stand-ins of actors served elsewhere. */
  placement: Placement | null = null;
  /** See {@link SystemCoreOptions.wake}. */
  readonly wake: (stopped: Cell) => Cell | Error;
  /** See {@link SystemCoreOptions.wakeFor}. */
  readonly wakeFor: (def: ActorDefinition, id: string) => Cell | Error;
  /** The error that made the system fatal, or null. */
  fatalError: Error | null = null;
  /** While the system drains: checks whether every actor is quiet (at most once per macrotask). */
  idleCheck: (() => void) | null = null;
  idleQueued = false;
  // Plain fields, not #private ones: this object is read on every ask, and keeping its shape
  // plain is what measured fastest.
  readonly eventStream: EventStream<LifecycleEvent>;
  readonly deadLetterStream: EventStream<DeadLetter>;
  readonly cellsById: IdRegistry<Registered>;
  readonly stewardsByName: Map<string, { readonly id: string }>;

  constructor(o: SystemCoreOptions) {
    this.name = o.name;
    this.clock = o.clock;
    this.logger = o.logger;
    this.deadlines = new Deadlines(o.clock);
    this.dispatcher = new Dispatcher();
    this.facade = o.facade;
    this.random = o.random;
    this.wall = o.wall;
    this.observer = o.observer;
    this.progress = o.progress;
    this.wake = o.wake;
    this.wakeFor = o.wakeFor;
    this.eventStream = o.events;
    this.deadLetterStream = o.deadLetters;
    this.cellsById = o.cells;
    this.stewardsByName = o.stewards;
  }

  emit(event: LifecycleEvent): void {
    this.eventStream.emit(event);
  }

  deadLetter(d: DeadLetter): void {
    this.counters.deadLetters++;
    this.deadLetterStream.emit(d);
    if (d.reason !== 'dropped') this.logger.debug({ actor: d.actor, message: d.message, reason: d.reason }, 'dead letter');
  }

  /** A cell became stopped: forget its id. */
  unregister(cell: Registered, id: string): void {
    this.cellsById.delete(id, cell);
  }

  /** A stopped steward: forget its name. */
  unregisterSteward(node: { readonly id: string }): void {
    if (this.stewardsByName.get(node.id) === node) this.stewardsByName.delete(node.id);
  }

  /** The root steward gave up: the system is in a fatal state. */
  fatal(error: Error): void {
    this.fatalError ??= error;
  }

  /** A cell may have become idle (drain watches for quiescence): check at most once per macrotask. */
  noteIdle(): void {
    if (this.idleCheck === null || this.idleQueued) return;
    this.idleQueued = true;
    setImmediate(() => {
      this.idleQueued = false;
      this.idleCheck?.();
    });
  }
}
