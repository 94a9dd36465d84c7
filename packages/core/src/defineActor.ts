import type { ActorRef } from './ActorRef.js';
import { checkKeys } from './checkKeys.js';
import type { ActorSystem } from './createSystem.js';
import type { AnyProtocol, HandlerInputOf, InputOf, MessageName, ReplyOf } from './defineProtocol.js';
import { InvalidArgument, type StopReason } from './errors.js';
import { BEHAVIOUR_KEYS } from './internal/optionKeys.js';
import type { Logger } from './Logger.js';
import type { ActorOptions } from './options.js';

/**
 * A reply channel taken out of a turn with `ctx.defer()`. It settles exactly once: the first
 * `send` or `fail` wins; later ones return `false` and are reported on the event stream. It still
 * obeys the ask's deadline: after a timeout or a cancel, `send` returns `false` and the value is
 * dropped and counted as a late reply.
 */
export interface DeferredReply<R> {
  /** Answer the caller. Returns false when the ask had already settled (the value is dropped). */
  send(value: R): boolean;
  /** Fail the caller with `error` (a `reject`-style `REJECTED` error, or any error). */
  fail(error: unknown): boolean;
  /** True once the ask has settled (answered, failed, timed out or cancelled). */
  readonly settled: boolean;
  /** Aborted when the caller gives up (timeout or its own signal). */
  readonly signal: AbortSignal;
}

/** Cancels a timer made with `ctx.schedule`. */
export type Cancel = () => void;

/** When a scheduled message is delivered. */
export type ScheduleWhen = { readonly afterMs: number } | { readonly everyMs: number; readonly afterMs?: number };

/** What hooks (`onStart`, `onStop`) receive. */
export interface LifecycleContext<P extends AnyProtocol> {
  /** This actor's ref (the same across restarts). */
  readonly self: ActorRef<P>;
  /** The system the actor lives in. */
  readonly system: ActorSystem;
  /** A logger bound to this actor (`actor`, `type`, `incarnation`). */
  readonly log: Logger;
  /** Starts at 1 and grows by one with every restart. */
  readonly incarnation: number;
  /**
   * Deliver `message` to this actor later, through its mailbox, like a tell. Timers belong to the
   * incarnation: a stop or a restart cancels them.
   */
  schedule<K extends MessageName<P>>(message: K, input: InputOf<P, K>, when: ScheduleWhen): Cancel;
}

/**
 * What a handler receives as its third argument.
 *
 * @typeParam R - the reply type of the message being handled.
 */
export interface ActorContext<P extends AnyProtocol, R = unknown> extends LifecycleContext<P> {
  /** The name of the message being handled. */
  readonly message: string;
  /** Aborted when the caller gives up (timeout, its own signal) or the turn is abandoned. */
  readonly signal: AbortSignal;
  /**
   * Prove progress in a long turn, so that the steward does not take the actor for hung (a turn
   * with no turn start and no heartbeat for `heartbeat.timeoutMs` is restarted).
   *
   * @example
   * ```ts
   * async rebuild(state, input, ctx) {
   *   for (const chunk of chunks) { await index(chunk); ctx.heartbeat(); }
   * }
   * ```
   */
  heartbeat(): void;
  /**
   * End this actor normally once the current turn is over (OTP's normal exit). Its steward
   * restarts it only if it is `permanent` (queued messages then go to the new incarnation); a
   * `transient` or `temporary` actor stops for good, and its queued messages fail with
   * `ACTOR_STOPPED` (reason `normal`).
   */
  stop(): void;
  /**
   * Take the reply channel out of this turn: the turn can end, the actor keeps serving, and the
   * reply is sent later with `reply.send(value)`. Return the deferred reply from the handler.
   */
  defer(): DeferredReply<R>;
}

const BECOME = Symbol.for('holdfast.become');

/** A handler's request to replace the state and answer; made with {@link become}. */
export interface Become<S, R> {
  readonly [BECOME]: true;
  readonly state: S;
  readonly reply: R;
}

/**
 * Replace the actor's state and answer `reply`. Return it from a handler when the next state is
 * a new value rather than a mutation of the current one.
 *
 * @example
 * ```ts
 * handlers: {
 *   push: (state, { item }) => become([...state, item], state.length + 1),
 * }
 * ```
 */
export function become<S>(state: S): Become<S, undefined>;
export function become<S, R>(state: S, reply: R): Become<S, R>;
export function become<S, R>(state: S, reply?: R): Become<S, R | undefined> {
  return { [BECOME]: true, state, reply };
}

/** @internal */
export function isBecome(v: unknown): v is Become<unknown, unknown> {
  return (v as Become<unknown, unknown>)[BECOME] === true;
}

/** What a handler may return for a message whose reply type is `R`. */
export type HandlerResult<S, R> = R | Become<S, R> | DeferredReply<R> | Promise<R | Become<S, R> | DeferredReply<R>>;

/** One handler per message of the protocol. */
export type Handlers<P extends AnyProtocol, S> = {
  readonly [K in MessageName<P>]: (state: S, input: HandlerInputOf<P, K>, ctx: ActorContext<P, ReplyOf<P, K>>) => HandlerResult<S, ReplyOf<P, K>>;
};

/** An owner loop's behaviour: its state, its handlers and its hooks. */
export interface ActorBehaviour<P extends AnyProtocol, S, A> {
  /** The actor type's name (default: the protocol's name). Shown in the REPL, logs and metrics. */
  readonly name?: string;
  /** Build the state from the spawn arguments; called at spawn and at every restart. */
  init(args: A): S;
  /** One handler per message. Sync or async; a turn ends when the handler returns or its promise settles. */
  readonly handlers: Handlers<P, S>;
  /** Runs before the first message of each incarnation. Messages wait until it has finished. */
  onStart?(state: S, ctx: LifecycleContext<P>): void | Promise<void>;
  /** Runs when the incarnation ends (stop, restart, shutdown). */
  onStop?(state: S, ctx: LifecycleContext<P>, reason: StopReason): void | Promise<void>;
  /** What the debug REPL shows for this actor's state (default: a JSON-safe rendering of it). */
  inspect?(state: S): unknown;
  /** Defaults for every actor of this type; spawn options override them. */
  readonly options?: ActorOptions;
}

/** An actor type: a protocol and the behaviour that owns its state. Spawn it with `system.spawn`. */
export interface ActorDefinition<P extends AnyProtocol = AnyProtocol, S = unknown, A = never> {
  readonly kind: 'actor';
  /** The type name. */
  readonly name: string;
  readonly protocol: P;
  readonly behaviour: ActorBehaviour<P, S, A>;
  /** True for a type whose turns run on an actor host (`workerActor`): spawning it needs `{ host }`. */
  readonly hosted?: boolean;
}

/**
 * Define an actor type: the state its owner loop holds and one handler per protocol message.
 *
 * @example
 * ```ts
 * export const Counter = defineActor(CounterProtocol, {
 *   init: (args: { start?: number }) => ({ counts: new Map<string, number>(), start: args.start ?? 0 }),
 *   handlers: {
 *     add(state, { key, by }) {
 *       const v = (state.counts.get(key) ?? state.start) + by;
 *       state.counts.set(key, v);
 *       return v;
 *     },
 *     get: (state, { key }) => state.counts.get(key) ?? state.start,
 *     reset(state) { state.counts.clear(); },
 *   },
 * });
 * ```
 */
export function defineActor<P extends AnyProtocol, S, A = undefined>(protocol: P, behaviour: ActorBehaviour<P, S, A>): ActorDefinition<P, S, A> {
  checkKeys(`actor '${protocol?.name}'`, behaviour, BEHAVIOUR_KEYS);
  if (typeof behaviour?.init !== 'function') throw new InvalidArgument(`actor '${protocol.name}': 'init' must be a function`);
  const handlers = behaviour.handlers as Record<string, unknown> | undefined;
  if (typeof handlers !== 'object' || handlers === null) throw new InvalidArgument(`actor '${protocol.name}': 'handlers' must be an object`);
  for (const name of Object.keys(protocol.messages)) {
    if (typeof handlers[name] !== 'function') throw new InvalidArgument(`actor '${protocol.name}': no handler for message '${name}'`);
  }
  for (const name of Object.keys(handlers)) {
    if (!Object.hasOwn(protocol.messages, name)) throw new InvalidArgument(`actor '${protocol.name}': handler '${name}' is not a message of the protocol`);
  }
  return Object.freeze({ kind: 'actor', name: behaviour.name ?? protocol.name, protocol, behaviour });
}
