// The keys each options object of the public API may have, for `checkKeys`. Keep them in step
// with the interfaces in `options.ts`, `createSystem.ts`, `defineActor.ts` and `defineProtocol.ts`
// (the options test spawns with every documented key).
import type { KeyShape } from '../checkKeys.js';

const MAILBOX = { capacity: true, overflow: true } as const;
const INTENSITY = { maxRestarts: true, withinMs: true } as const;
const VALIDATE = { input: true, reply: true } as const;
const BACKOFF = { minMs: true, maxMs: true, factor: true, jitter: true } as const;
const HEARTBEAT = { timeoutMs: true, sweepMs: true } as const;

/** `ActorOptions`: per actor, and a behaviour's `options`. */
export const ACTOR_KEYS: KeyShape = {
  mailbox: MAILBOX,
  askTimeoutMs: true,
  restart: true,
  intensity: INTENSITY,
  validate: VALIDATE,
  stopTimeoutMs: true,
  heartbeat: { timeoutMs: true },
};

/** `SpawnOptions`. */
export const SPAWN_KEYS: KeyShape = { ...ACTOR_KEYS, id: true, host: true, args: true };

/** `StewardOptions`. */
export const STEWARD_KEYS: KeyShape = {
  strategy: true,
  intensity: INTENSITY,
  backoff: BACKOFF,
  heartbeat: HEARTBEAT,
  whileDown: true,
  restart: true,
};

/** `SystemOptions`. */
export const SYSTEM_KEYS: KeyShape = {
  name: true,
  clock: true,
  logger: true,
  askTimeoutMs: true,
  validate: VALIDATE,
  mailbox: MAILBOX,
  restart: true,
  intensity: INTENSITY,
  drainTimeoutMs: true,
  heartbeat: HEARTBEAT,
  backoff: BACKOFF,
  whileDown: true,
  rootIntensity: INTENSITY,
  random: true,
  turnObserver: { sampleEvery: true, observe: true },
  store: true,
  cluster: true,
  durable: { passivateAfterMs: true, maxActive: true, onCommit: true, reminderPollMs: true, types: true },
};

/** `ActorBehaviour`. */
export const BEHAVIOUR_KEYS: KeyShape = {
  name: true,
  init: true,
  handlers: true,
  onStart: true,
  onStop: true,
  inspect: true,
  options: ACTOR_KEYS,
  durable: { schema: true, version: true, migrate: true, keepReplies: true },
};

/** One message of a protocol (`MessageSpec`). */
export const MESSAGE_KEYS: KeyShape = { input: true, reply: true, readonly: true };

/** `AskOptions` (asks and `send`). */
export const ASK_KEYS: KeyShape = { timeoutMs: true, signal: true, transfer: true, idempotencyKey: true };

/** `ScheduleWhen`. */
export const SCHEDULE_KEYS: KeyShape = { afterMs: true, everyMs: true };

/** `system.shutdown(options)`. */
export const SHUTDOWN_KEYS: KeyShape = { timeoutMs: true };

/** `GatherOptions`. */
export const GATHER_KEYS: KeyShape = { timeoutMs: true, signal: true, name: true };
