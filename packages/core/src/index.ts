/**
 * `@holdfast/core`: owner-loop actors with zod protocols, reply channels and supervision.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { createSystem, defineActor, defineProtocol } from '@holdfast/core';
 *
 * const CounterProtocol = defineProtocol('counter', {
 *   add: { input: z.object({ key: z.string(), by: z.number().int() }), reply: z.number() },
 * });
 * const Counter = defineActor(CounterProtocol, {
 *   init: () => new Map<string, number>(),
 *   handlers: { add: (m, { key, by }) => { const v = (m.get(key) ?? 0) + by; m.set(key, v); return v; } },
 * });
 * const system = createSystem({ name: 'demo' });
 * const counter = system.spawn(Counter, { id: 'c1' });
 * await counter.ask('add', { key: 'a', by: 2 }); // 2
 * await system.shutdown();
 * ```
 * @module @holdfast/core
 */
export type { ActorHost } from './ActorHost.js';
export { ActorRef } from './ActorRef.js';
export { type Clock, systemClock, type TimerHandle } from './Clock.js';
export {
  ActorSystem,
  createSystem,
  type ShutdownReport,
  type SystemStats,
  type SystemStatus,
} from './createSystem.js';
export {
  type ActorBehaviour,
  type ActorContext,
  type ActorDefinition,
  type Become,
  become,
  type Cancel,
  type DeferredReply,
  type DurableSpec,
  defineActor,
  type HandlerResult,
  type Handlers,
  type Lease,
  type LifecycleContext,
  type Reminder,
  type RemindWhen,
  type ScheduleWhen,
} from './defineActor.js';
export {
  type AnyProtocol,
  defineProtocol,
  type HandlerInputOf,
  type InputOf,
  type MessageName,
  type MessageSpec,
  type MessageSpecs,
  type Protocol,
  type ReplyOf,
} from './defineProtocol.js';
export { EventStream, type Unsubscribe } from './EventStream.js';
export {
  ActorCrashed,
  ActorExists,
  ActorNotFound,
  ActorStopped,
  AskTimeout,
  Cancelled,
  CommitFailed,
  type CrashReason,
  Deadlock,
  ErrorCode,
  type ErrorOfCode,
  type ErrorsByCode,
  errorFromJSON,
  HoldfastError,
  InvalidArgument,
  InvalidMessage,
  type InvalidMessageDetails,
  InvalidReply,
  isHoldfastError,
  MailboxFull,
  NodeLost,
  Rejected,
  type RestartDecision,
  reject,
  type SerializedError,
  ShardMoved,
  ShuttingDown,
  type StateCheckPoint,
  StateInvalid,
  type StopReason,
  StoreUnavailable,
  toError,
  WorkerLost,
} from './errors.js';
export type { DeadLetter, DeadLetterReason, LifecycleEvent, RestartCause, RestartRecord } from './events.js';
export { firstReply, type GatherOptions, gather, type Task } from './gather.js';
export type {
  ActorSnapshot,
  ActorSummary,
  ChildActorSnapshot,
  DurableActorInfo,
  DurableStats,
  StatusName,
  StewardSnapshot,
  StewardStatusName,
  SystemCounters,
  TraceEvent,
} from './inspection.js';
export { fromPino, type Logger, type PinoLike, silentLogger } from './Logger.js';
export type {
  ActorOptions,
  AskOptions,
  BackoffOptions,
  DurableOptions,
  HeartbeatOptions,
  MailboxOptions,
  OverflowPolicy,
  RestartIntensity,
  RestartType,
  SpawnOptions,
  StewardOptions,
  Strategy,
  SystemOptions,
  TurnObserver,
  ValidationOptions,
  WhileDown,
} from './options.js';
export { type RateLimit, RateLimiter, type RateLimiterArgs, RateLimiterProtocol } from './RateLimiter.js';
export { Steward } from './Steward.js';
