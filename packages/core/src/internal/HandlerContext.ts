import type { ActorRef } from '../ActorRef.js';
import type { ActorSystem } from '../createSystem.js';
import type { ActorContext, DeferredReply, Lease, Reminder, RemindWhen, ScheduleWhen } from '../defineActor.js';
import type { CompiledMessage } from '../defineProtocol.js';
import { ActorStopped, InvalidArgument, type StopReason } from '../errors.js';
import type { Logger } from '../Logger.js';
import type { Cell } from './cell/Cell.js';
import { typeTakesContext } from './cell/handlers.js';
import { cancelReminderFrom, remindFrom } from './cell/reminders.js';
import { beat, scheduleFrom } from './cell/timers.js';
import { leaseOf } from './cluster/Placement.js';
import type { ReplyChannel } from './ReplyChannel.js';

/** A signal that never aborts. */
export const neverAborted: AbortSignal = new AbortController().signal;

/** What `ctx.defer()` gives where there is no caller (a tell, a hook, a fenced turn): sending goes nowhere. */
export const detachedReply: DeferredReply<unknown> = Object.freeze({
  send: () => false,
  fail: () => false,
  settled: true,
  signal: neverAborted,
});

/**
 * The `ctx` every handler receives as its third argument. There is one per incarnation, made
 * when it starts and fenced when it ends, so a turn allocates no context: its per-message parts
 * (`message`, `signal`, `defer()`, `log`) are those of the turn running now, which is
 * unambiguous because an actor runs one turn at a time (an async turn keeps the actor busy until
 * it ends). Used after its turn, `defer()` throws `INVALID_ARGUMENT`; used after its incarnation
 * ended (a fenced turn that went on), it reaches no one.
 */
/** The parts of a context few incarnations use. */
class ContextExtras {
  /** Backs `signal` for tells: aborted when the incarnation ends (made on first use). */
  controller: AbortController | null = null;
  /** The logger of the last message asked for (a turn reads `ctx.log` once or several times). */
  logMsg: CompiledMessage | null = null;
  log: Logger | null = null;
  fenceReason: unknown = undefined;
  stop: StopReason | null = null;
}

export class HandlerContext implements ActorContext<never, unknown> {
  declare readonly cell: Cell;
  declare readonly incarnation: number;
  declare fenced: boolean;
  /** What few incarnations need (a signal for tells, a logger, why it was fenced), made on first use: every actor has a context. */
  declare more: ContextExtras | null;

  constructor(cell: Cell) {
    // Assigned here, not by field initializers (which V8 runs as a function of their own).
    this.cell = cell;
    this.incarnation = cell.incarnation;
    this.fenced = false;
    this.more = null;
  }

  /** The message of the turn running now on this incarnation, or null. */
  private msgNow(): CompiledMessage | null {
    if (this.fenced) return null;
    const cell = this.cell;
    if (cell.inHandler) return cell.mailbox.headMsg() ?? null;
    return cell.current?.msg ?? null;
  }

  /** The reply channel of the ask whose turn runs now on this incarnation, or null (a tell, or no turn). */
  private askNow(): ReplyChannel | null {
    if (this.fenced) return null;
    const cell = this.cell;
    if (cell.inHandler) return cell.mailbox.headAsk();
    const current = cell.current;
    return current?.isAsk ? (current as ReplyChannel) : null;
  }

  get self(): ActorRef<never> {
    return this.cell.ref as unknown as ActorRef<never>;
  }
  get lease(): Lease | null {
    return leaseOf(this.cell);
  }
  get system(): ActorSystem {
    return this.cell.core.facade;
  }
  get message(): string {
    return this.msgNow()?.name ?? '';
  }
  get log(): Logger {
    const msg = this.msgNow();
    if (msg === null) return this.cell.log;
    const more = (this.more ??= new ContextExtras());
    if (msg !== more.logMsg || more.log === null) {
      more.logMsg = msg;
      more.log = this.cell.log.child({ message: msg.name });
    }
    return more.log;
  }
  get signal(): AbortSignal {
    const ask = this.askNow();
    if (ask !== null) return ask.signal;
    const more = (this.more ??= new ContextExtras());
    more.controller ??= new AbortController();
    // A fenced turn that goes on sees its signal aborted, whenever it looks.
    if (this.fenced && !more.controller.signal.aborted) more.controller.abort(this.abortReason());
    return more.controller.signal;
  }

  /**
   * The incarnation is over: nothing this context does reaches anyone, and its signal aborts with
   * `reason`, or (when it is null) an `ACTOR_STOPPED` for `stop`, made only if the signal is looked
   * at: an error costs a stack trace, and most incarnations end with nobody looking.
   */
  fence(reason: unknown, stop: StopReason | null = null): void {
    if (this.fenced) return;
    this.fenced = true;
    // Kept only when something may ask for it later (a signal, made now or on a later look).
    if (reason === undefined && stop === null && this.more === null) return;
    const more = (this.more ??= new ContextExtras());
    more.fenceReason = reason;
    more.stop = stop;
    if (more.controller !== null && !more.controller.signal.aborted) more.controller.abort(this.abortReason());
  }

  private abortReason(): unknown {
    const more = this.more;
    if (more === null) return undefined;
    if (more.fenceReason === null && more.stop !== null) more.fenceReason = new ActorStopped(this.cell.id, more.stop);
    return more.fenceReason ?? undefined;
  }

  heartbeat(): void {
    if (!this.fenced) beat(this.cell);
  }

  stop(): void {
    if (!this.fenced) this.cell.requestExit();
  }

  defer(): DeferredReply<never> {
    if (this.fenced) return detachedReply as DeferredReply<never>;
    const msg = this.msgNow();
    if (msg === null) {
      throw new InvalidArgument(`actor '${this.cell.id}': ctx.defer() is for the turn running now; call it while the handler runs`);
    }
    const ask = this.askNow();
    if (ask === null) return detachedReply as DeferredReply<never>;
    if (!ask.deferred) {
      ask.deferred = true;
      if (!ask.settled) this.cell.trackDeferred(ask);
    }
    return ask as DeferredReply<never>;
  }

  remind(name: string, when: RemindWhen, message: never, input: unknown): void {
    if (this.fenced) return;
    remindFrom(this.cell, this.msgNow(), name, when, message as string, input);
  }

  cancelReminder(name: string): void {
    if (this.fenced) return;
    cancelReminderFrom(this.cell, this.msgNow(), name);
  }

  get reminder(): Reminder | null {
    return this.fenced ? null : (this.cell.durable?.delivering ?? null);
  }

  schedule(message: never, input: unknown, when: ScheduleWhen): () => void {
    return scheduleFrom(this.cell, message as string, input, when, this.incarnation, this.fenced);
  }
}

/** A new incarnation's context, or null when no handler of its type takes one. */
export function contextFor(cell: Cell): HandlerContext | null {
  return typeTakesContext(cell.table) ? new HandlerContext(cell) : null;
}
