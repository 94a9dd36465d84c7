import type { Clock } from '../Clock.js';
import type { ActorSystem } from '../createSystem.js';
import type { DeadLetter, LifecycleEvent } from '../events.js';
import type { Logger } from '../Logger.js';
import type { Deadlines } from './Deadlines.js';
import type { Dispatcher } from './Dispatcher.js';

/** Counters kept by a system; read them with `system.stats()`. */
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

/** @internal A {@link TurnObserver} with its sampling state. */
export interface ObserverState {
  readonly every: number;
  countdown: number;
  readonly observe: (actorType: string, message: string, durationMs: number) => void;
}

/** @internal What a cell needs of its system. */
export interface SystemCore {
  readonly name: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly deadlines: Deadlines;
  readonly dispatcher: Dispatcher;
  readonly facade: ActorSystem;
  readonly counters: SystemCounters;
  /** True once shutdown has begun: outside callers are refused. */
  draining: boolean;
  emit(event: LifecycleEvent): void;
  deadLetter(letter: DeadLetter): void;
  /** A cell became stopped: forget its id. */
  unregister(cell: object, id: string): void;
  /** A cell may have become idle (drain watches for quiescence). */
  noteIdle(): void;
  /** A stopped steward: forget its name. */
  unregisterSteward(node: object): void;
  /** The root steward gave up: the system is in a fatal state. */
  fatal(error: Error): void;
  /** The random source of backoff jitter. */
  readonly random: () => number;
  /** Wall-clock time, refreshed every 250 ms (for "last turn" times, without a clock read per turn). */
  readonly wall: { now: number };
  /** Who receives turn durations, or null (then turns are not timed at all). */
  readonly observer: ObserverState | null;
  /** Called by `ctx.heartbeat()` (an actor host counts it as its thread's progress), or null. */
  readonly progress: (() => void) | null;
}
