import type { CrashReason, RestartDecision, StopReason } from './errors.js';

interface EventBase {
  /** The actor's id. */
  readonly actor: string;
  /** The actor's type (its definition's name). */
  readonly actorType: string;
  /** The clock's time when it happened. */
  readonly at: number;
}

/**
 * Lifecycle events of the actors and stewards in a system (a steward's events have
 * `actorType: 'steward'` and its name as `actor`), in the order they happened. The logger, metrics
 * and the debug REPL subscribe to these through `system.events`.
 */
export type LifecycleEvent =
  | (EventBase & { readonly type: 'spawned' })
  | (EventBase & { readonly type: 'started'; readonly incarnation: number })
  | (EventBase & {
      readonly type: 'crashed';
      readonly incarnation: number;
      readonly reason: CrashReason;
      /** The message being handled, or null when the crash was in a hook. */
      readonly message: string | null;
      readonly error: Error;
      readonly decision: RestartDecision;
    })
  | (EventBase & {
      /** The actor's turn made no progress for `silentMs` (its heartbeat timeout): it is hung. A `crashed` event (reason `hung`) follows. */
      readonly type: 'hung';
      readonly incarnation: number;
      readonly message: string | null;
      readonly silentMs: number;
      readonly timeoutMs: number;
    })
  | (EventBase & {
      /** Its steward is restarting it: the incarnation has ended; a new one starts after `delayMs`. */
      readonly type: 'restarting';
      /** The incarnation that ended. */
      readonly incarnation: number;
      readonly reason: RestartCause;
      readonly delayMs: number;
      /** The steward doing it. */
      readonly steward: string;
    })
  | (EventBase & { readonly type: 'restarted'; readonly incarnation: number; readonly restarts: number })
  | (EventBase & {
      /** A steward exceeded its restart limit: its children are stopped and the failure goes to its parent. */
      readonly type: 'escalated';
      readonly incarnation: number;
      readonly restarts: number;
      readonly withinMs: number;
      /** The parent steward that now handles it. */
      readonly to: string;
    })
  | (EventBase & {
      /** The root steward's own restart limit was exceeded: the service cannot heal itself and should exit non-zero. */
      readonly type: 'fatal';
      readonly error: Error;
    })
  | (EventBase & { readonly type: 'gave-up'; readonly incarnation: number; readonly restarts: number; readonly withinMs: number })
  | (EventBase & { readonly type: 'stopped'; readonly incarnation: number; readonly reason: StopReason })
  | (EventBase & {
      /** Something failed that no caller could be told of: a hook threw, a deferred reply was sent twice, a listener threw. */
      readonly type: 'error';
      readonly incarnation: number;
      readonly where: string;
      readonly error: Error;
    })
  | (EventBase & {
      /** A reply came after its ask had already settled (timed out, cancelled). It was dropped. */
      readonly type: 'late-reply';
      readonly message: string;
    });

/**
 * Why a message became a dead letter. `restarting`: its actor was down and its steward refuses
 * messages meanwhile (`whileDown: 'refuse'`); `fenced`: a turn of an incarnation that was
 * already replaced (a hung turn that went on) sent it to its own actor; `unreachable`: in a
 * cluster, no node served the actor's shard within the message's deadline.
 */
export type DeadLetterReason =
  | 'invalid-message'
  | 'stopped'
  | 'mailbox-full'
  | 'dropped'
  | 'shutting-down'
  | 'restarting'
  | 'fenced'
  | 'store-unavailable'
  | 'unreachable';

/** Why a steward restarted a child. */
export type RestartCause = CrashReason | 'normal' | 'sibling-restart' | 'escalated';

/** One line of a child's restart history (newest last), as the REPL shows it. */
export interface RestartRecord {
  /** The clock's time of the failure. */
  readonly at: number;
  /** The incarnation that ended. */
  readonly incarnation: number;
  readonly reason: RestartCause;
  readonly decision: RestartDecision;
  /** The backoff before the restart, in ms. */
  readonly delayMs: number;
  /** The error's message, when there was one. */
  readonly error: string | null;
}

/** A message that could not be delivered, or was dropped. Nothing disappears silently. */
export interface DeadLetter {
  /** The addressee's id. */
  readonly actor: string;
  readonly message: string;
  readonly input: unknown;
  readonly reason: DeadLetterReason;
  /** True when the message was an ask (its caller was also told). */
  readonly wasAsk: boolean;
  /** Why, in detail, when there is more to say (the zod issues of an invalid tell). */
  readonly error?: Error;
  readonly at: number;
}
