import type { ActorRef } from '../ActorRef.js';
import type { ActorSystem } from '../createSystem.js';
import type { ActorContext, DeferredReply, ScheduleWhen } from '../defineActor.js';
import { type CompiledMessage, messageIn } from '../defineProtocol.js';
import { InvalidMessage } from '../errors.js';
import type { Logger } from '../Logger.js';
import type { Cell } from './Cell.js';
import type { ChainTurn } from './callChain.js';
import type { Envelope } from './Envelope.js';

const neverAborted = new AbortController().signal;

/** What `ctx.defer()` gives in a tell's turn: there is no caller, so sending goes nowhere. */
const detachedReply: DeferredReply<unknown> = Object.freeze({
  send: () => false,
  fail: () => false,
  settled: true,
  signal: neverAborted,
});

/**
 * The `ctx` of one turn (or of a hook, with no message). A hook's ctx is also the hook's link in
 * the call chain. Once the incarnation that ran it has ended, the turn is fenced: its timers and
 * replies no longer reach anyone.
 */
export class TurnContext implements ActorContext<never, unknown>, ChainTurn {
  // Assigned in the constructor rather than by field initializers (one is made per turn of a
  // handler that takes ctx, and V8 runs initializers as a separate function).
  declare readonly cell: Cell;
  /** The message of the turn, or null in a hook. */
  declare readonly msg: CompiledMessage | null;
  /** The ask the turn serves, or null (a tell, or a hook). */
  declare readonly env: Envelope | null;
  declare readonly incarnation: number;
  declare done: boolean;
  declare fenced: boolean;
  declare log_: Logger | null;
  declare controller_: AbortController | null;

  constructor(cell: Cell, msg: CompiledMessage | null, env: Envelope | null) {
    this.cell = cell;
    this.msg = msg;
    this.env = env;
    this.incarnation = cell.incarnation;
    this.done = false;
    this.fenced = false;
    this.log_ = null;
    this.controller_ = null;
  }

  get actorId(): string {
    return this.cell.id;
  }
  get owner(): object {
    return this.cell;
  }
  get parent(): ChainTurn | null {
    return this.env === null ? null : this.env.parent;
  }
  get self(): ActorRef<never> {
    return this.cell.ref as unknown as ActorRef<never>;
  }
  get system(): ActorSystem {
    return this.cell.core.facade;
  }
  get message(): string {
    return this.msg === null ? '' : this.msg.name;
  }
  get log(): Logger {
    if (this.log_ === null) this.log_ = this.msg === null ? this.cell.log : this.cell.log.child({ message: this.msg.name });
    return this.log_;
  }
  get signal(): AbortSignal {
    if (this.env !== null) return this.env.signal;
    this.controller_ ??= new AbortController();
    if (this.fenced && !this.controller_.signal.aborted) this.controller_.abort();
    return this.controller_.signal;
  }

  /** The incarnation that ran this turn is gone: fence it and abort its signal. */
  abandon(reason: unknown): void {
    this.fenced = true;
    this.done = true;
    // A reply forwarded to a host outlives the turn: its signal stays the caller's.
    if (this.env !== null && !this.env.kept) this.env.abortTurn(reason);
    if (this.controller_ !== null && !this.controller_.signal.aborted) this.controller_.abort(reason);
  }

  heartbeat(): void {
    if (this.fenced) return;
    const cell = this.cell;
    cell.beats++;
    cell.hbAt = cell.core.clock.now();
    // A turn that beats is a long one: the dispatcher yields to the event loop after it.
    cell.core.dispatcher.yieldRequested = true;
    cell.core.progress?.();
  }

  stop(): void {
    if (!this.fenced) this.cell.requestExit();
  }

  defer(): DeferredReply<never> {
    const env = this.env;
    if (env === null) return detachedReply as DeferredReply<never>;
    if (!env.deferred) {
      env.deferred = true;
      if (!this.fenced && !env.settled) this.cell.trackDeferred(env);
    }
    return env as DeferredReply<never>;
  }

  schedule(message: never, input: unknown, when: ScheduleWhen): () => void {
    const msg = messageIn(this.cell.table, message as string);
    if (msg === undefined) {
      throw InvalidMessage.unknownMessage(this.cell.id, this.cell.def.protocol.name, message as string);
    }
    if (this.fenced) return () => {};
    return this.cell.schedule(msg, input, when, this.incarnation);
  }
}
