// The small shared parts of an actor's owner loop: its lifecycle states, the gate bits tested on
// every send, the system messages that go ahead of user messages, and the fields most actors
// never need (made on first use).
import type { ActorHost } from '../../ActorHost.js';
import type { TimerHandle } from '../../Clock.js';
import type { StopReason } from '../../errors.js';
import type { ActorSnapshot, StatusName, TraceEvent } from '../../inspection.js';
import type { Logger } from '../../Logger.js';
import type { ReplyChannel } from '../ReplyChannel.js';
import type { RingBuffer } from '../RingBuffer.js';
import type { ChildRecord } from '../Supervised.js';
import type { Waiting } from './admission.js';
import type { Cell } from './Cell.js';
import type { DurableSlot } from './durableSlot.js';

/**
 * Lifecycle states, in order. Plain numbers, not an enum: with isolated modules an enum is an
 * object, and these are compared on every message.
 */
export const STARTING = 0;
export const RUNNING = 1;
export const RESTARTING = 2;
export const STOPPING = 3;
export const STOPPED = 4;
export type Status = 0 | 1 | 2 | 3 | 4;

export const STATUS_NAMES: readonly StatusName[] = ['starting', 'running', 'restarting', 'stopping', 'stopped'];

// The gate: 0 while the actor takes messages from anyone, so that a send tests one field.
/** Stopped, or the system drains. */
export const GATE_CLOSED = 1;
/** Down, and its steward refuses messages meanwhile. */
export const GATE_DOWN = 2;
/** A fenced turn of an older incarnation may still send to this actor. */
export const GATE_ZOMBIE = 4;
/** Someone traces this actor's messages. */
export const GATE_TRACE = 8;
/** A durable actor whose store cannot be used now (down, or fenced off): sends fail fast. */
export const GATE_STORE = 16;
/** Served by another node of the cluster (a stand-in), or its shard is being handed over: sends are forwarded. */
export const GATE_REMOTE = 32;

// A cell's yes/no states (Cell.flags).
/** In the dispatcher's ready queue (the dispatcher's bit). */
export { SCHEDULED } from '../Dispatcher.js';
/** A turn (async), a hook or a restart is in progress. */
export const BUSY = 2;
/** A handler runs synchronously now. */
export const IN_HANDLER = 4;
/** The incarnation's state exists and its onStop is owed. */
export const LIVE = 8;

/** What goes ahead of user messages, run at the next turn boundary. */
export type SystemMessage =
  | { readonly kind: 'stop'; readonly reason: StopReason; readonly done: () => void }
  | { readonly kind: 'restart'; readonly done: () => void }
  | { readonly kind: 'end'; readonly reason: StopReason; readonly done: () => void }
  | { readonly kind: 'exit' }
  | { readonly kind: 'inspect'; readonly done: (snapshot: ActorSnapshot) => void };

/** The parts of a cell that most actors never use. */
export class Rare {
  restarts = 0;
  dropped = 0;
  stopReason: StopReason = 'stopped';
  record: ChildRecord | null = null;
  /** Fenced turns still running (a hung turn that went on). */
  zombies = 0;
  /** The end of the incarnation in progress (onStop running). */
  ending: Promise<void> | null = null;
  /** When the async turn in progress started (performance.now), when turns are observed. */
  turnStart = 0;
  /** Listeners of this actor's message trace. */
  tracers: Set<(event: TraceEvent) => void> | null = null;
  timers: Set<TimerHandle> | null = null;
  /** Reply channels taken out of their turn (`ctx.defer()`), not settled yet. */
  deferred: Set<ReplyChannel> | null = null;
  log: Logger | null = null;
  stopped: Array<() => void> | null = null;
  /** System messages waiting for the next turn boundary (Cell.sys). */
  sys: SystemMessage[] | null = null;
  /** Where the actor's turns run, when not on this thread. */
  host: ActorHost | null = null;
  /** Senders waiting for room in a `wait` mailbox (Cell.waiters). */
  waiters: RingBuffer<Waiting> | null = null;
  /** A durable actor's part (Cell.durable). */
  durable: DurableSlot | null = null;
}

/** The rare parts of `cell`, made on first use. */
export function rareOf(cell: Cell): Rare {
  cell.rare ??= new Rare();
  return cell.rare;
}
