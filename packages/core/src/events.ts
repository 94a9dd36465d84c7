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
 * Lifecycle events of the actors in a system, in the order they happened. The logger, metrics
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
  | (EventBase & { readonly type: 'restarted'; readonly incarnation: number; readonly restarts: number })
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

/** Why a message became a dead letter. */
export type DeadLetterReason = 'invalid-message' | 'stopped' | 'mailbox-full' | 'dropped' | 'shutting-down';

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
