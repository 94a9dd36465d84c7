import type { z } from 'zod';
import type { ActorRef } from './ActorRef.js';
import { checkKeys } from './checkKeys.js';
import type { ActorSystem } from './createSystem.js';
import type { AnyProtocol, HandlerInputOf, InputOf, MessageName, ReplyOf } from './defineProtocol.js';
import { InvalidArgument, type StopReason } from './errors.js';
import { notJson } from './internal/durable/jsonSafe.js';
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

/** Where a durable actor of a cluster runs, and under which lease: see {@link LifecycleContext.lease}. */
export interface Lease {
  readonly node: string;
  readonly shard: number;
  readonly epoch: number;
}

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
   * In a cluster, for a durable actor: the node it runs on, its shard, and the epoch (lease) this
   * node holds the shard at — every write of this incarnation is fenced with it. Null elsewhere.
   */
  readonly lease: Lease | null;
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
  /**
   * Durable actors only: a reminder that outlives restarts and deploys. At `when`, `message` is
   * delivered to this actor like a tell (at least once: until a turn that handles it commits),
   * and `ctx.reminder` tells that turn which reminder it is and when it was due. Setting a name
   * that is set already moves it. The reminder is part of this turn: it exists only once the
   * turn's state is committed. Not allowed in a read-only message.
   *
   * @example
   * ```ts
   * open(s, { days }, ctx) {
   *   s.open = true;
   *   ctx.remind('expire', { afterMs: days * 86_400_000 }, 'expire', {});
   * }
   * ```
   */
  remind<K extends MessageName<P>>(name: string, when: RemindWhen, message: K, input: InputOf<P, K>): void;
  /** Durable actors only: remove a reminder (with this turn's commit). Unknown names are ignored. */
  cancelReminder(name: string): void;
  /** The reminder this turn delivers, or null (the message came from elsewhere). */
  readonly reminder: Reminder | null;
}

/** When a reminder is due: after a delay, or at a time (a `Date` or ms since the epoch). */
export type RemindWhen = { readonly afterMs: number } | { readonly at: Date | number };

/** A reminder being delivered: its name, and when it was due (ms since the epoch). */
export interface Reminder {
  readonly name: string;
  readonly at: number;
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
  /**
   * Make the actor durable: its state is kept in the system's store (`createSystem({ store })`),
   * committed after every turn that may change it and before that turn's reply or messages
   * leave, and loaded when the actor activates (`system.ref(Def, id)`). `init` then runs only
   * when nothing is stored. See the durable actors concept page.
   */
  readonly durable?: DurableSpec<S>;
}

/**
 * How a durable actor's state is kept: its schema (checked on every commit and every load), the
 * schema's version (stored with the state), and the steps that bring older stored versions up to
 * date (`migrate[n]` turns version n into version n + 1).
 *
 * @example
 * ```ts
 * durable: {
 *   schema: z.object({ balance: z.number().int() }),
 *   version: 2,
 *   migrate: { 1: (v1: { cents: number }) => ({ balance: v1.cents }) },
 * }
 * ```
 */
/** How many replies to keyed asks a durable actor keeps, unless its `durable.keepReplies` says. */
export const DEFAULT_KEEP_REPLIES = 100;

export interface DurableSpec<S> {
  /** Checked when state is committed and when it is loaded (a zod schema of the state). */
  readonly schema: z.ZodType<S>;
  /** The current schema version: a positive integer (default 1). */
  readonly version?: number;
  /** `n → (state of version n) → state of version n + 1`, for every n below `version`. */
  // biome-ignore lint/suspicious/noExplicitAny: each step takes its own older shape.
  readonly migrate?: { readonly [from: number]: (old: any) => unknown };
  /**
   * How many replies to keyed asks (`AskOptions.idempotencyKey`) the actor keeps with its state:
   * the most recent ones (default 100). A retry whose key is older than that runs again.
   */
  readonly keepReplies?: number;
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
  if (behaviour.durable !== undefined) checkDurable(protocol.name, behaviour.durable as DurableSpec<unknown>);
  return Object.freeze({ kind: 'actor', name: behaviour.name ?? protocol.name, protocol, behaviour });
}

function checkDurable(name: string, d: DurableSpec<unknown>): void {
  if (typeof (d.schema as { safeParse?: unknown } | undefined)?.safeParse !== 'function')
    throw new InvalidArgument(`actor '${name}': durable.schema must be a zod schema`);
  const bad = notJson(d.schema as z.ZodType);
  if (bad !== null)
    throw new InvalidArgument(
      `actor '${name}': durable state is stored as JSON, which cannot carry the ${bad.type} at ${bad.path}: use ${bad.instead} instead`,
    );
  const version = d.version ?? 1;
  if (!Number.isInteger(version) || version < 1)
    throw new InvalidArgument(`actor '${name}': durable.version must be a positive integer, got ${String(version)}`);
  const keep = d.keepReplies ?? DEFAULT_KEEP_REPLIES;
  if (!Number.isInteger(keep) || keep < 1 || keep > 10_000)
    throw new InvalidArgument(`actor '${name}': durable.keepReplies must be an integer from 1 to 10000, got ${String(keep)}`);
  const migrate = d.migrate ?? {};
  if (typeof migrate !== 'object' || migrate === null) throw new InvalidArgument(`actor '${name}': durable.migrate must be an object of steps`);
  for (const [from, step] of Object.entries(migrate)) {
    const n = Number(from);
    if (!Number.isInteger(n) || n < 1 || n >= version)
      throw new InvalidArgument(`actor '${name}': durable.migrate has a step from version ${from}; steps go from 1 to ${version - 1}`);
    if (typeof step !== 'function') throw new InvalidArgument(`actor '${name}': durable.migrate[${from}] must be a function`);
  }
}
