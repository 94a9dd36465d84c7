import type { Transferable } from 'node:worker_threads';
import type { DeferredReply } from '../defineActor.js';
import type { CompiledMessage } from '../defineProtocol.js';
import type { Turn } from './callChain.js';
import type { Bucket, Expirable } from './Deadlines.js';

/** The cell side of a reply channel: where settling reports to. */
export interface ReplyChannelOwner {
  /** The addressee's id. */
  readonly id: string;
  /** Called once when an ask settles, to release its deadline and signal listener. */
  settled(channel: ReplyChannel): void;
  /** The ask's deadline passed before it settled. */
  expired(channel: ReplyChannel): void;
  /** A reply or failure arrived after the ask had settled. */
  late(channel: ReplyChannel): void;
  /** Check (in dev/test mode) and deliver a deferred reply. */
  deliverDeferred(channel: ReplyChannel, value: unknown): boolean;
  /** Deliver a deferred failure. */
  failDeferred(channel: ReplyChannel, error: unknown): boolean;
}

/** Rarely used parts of an ask, allocated only when needed. */
interface Extra {
  /** The caller's signal and the listener we put on it. */
  signal: AbortSignal | null;
  onAbort: (() => void) | null;
  /** Backs `ctx.signal` / `reply.signal` (made on first use). */
  controller: AbortController | null;
  /** Buffers and ports the caller asked to transfer (not copy) across a thread boundary. */
  transfer?: readonly Transferable[];
  /** The ask's idempotency key (a durable actor keeps its reply). */
  key?: string;
}

const DONE = 1;
const FENCED = 2;
const SETTLED = 4;
const DEFERRED = 8;
const KEPT = 32;

/**
 * A turn's link in the call chain. An ask's {@link ReplyChannel} is one; a tell gets one only when
 * its turn needs it (an async handler, a handler that asks someone, a crash): the mailbox holds
 * a tell as plain slots, so most tells allocate nothing.
 */
export class TellTurn implements Turn {
  // Fields are assigned in the constructors, not by initializers: V8 runs class field
  // initializers as a separate function on every construction, and these are made per message.
  declare readonly msg: CompiledMessage;
  declare input: unknown;
  declare readonly host: ReplyChannelOwner;
  /** DONE | FENCED, packed. */
  declare flags: number;

  constructor(msg: CompiledMessage, input: unknown, host: ReplyChannelOwner) {
    this.msg = msg;
    this.input = input;
    this.host = host;
    this.flags = 0;
  }

  /** The turn serving this message has ended (it is no longer a live link of a call chain). */
  get done(): boolean {
    return (this.flags & DONE) !== 0;
  }
  set done(v: boolean) {
    this.flags = v ? this.flags | DONE : this.flags & ~DONE;
  }
  /** The incarnation that ran this turn is gone: its outcome reaches no one. */
  get fenced(): boolean {
    return (this.flags & FENCED) !== 0;
  }
  set fenced(v: boolean) {
    this.flags = v ? this.flags | FENCED : this.flags & ~FENCED;
  }
  /** A tell never settles: there is no caller. */
  get settled(): boolean {
    return false;
  }
  /** False (an {@link ReplyChannel}'s is true): cheaper than `instanceof`. */
  get isAsk(): boolean {
    return false;
  }
  // Turn.
  get actorId(): string {
    return this.host.id;
  }
  get owner(): object {
    return this.host;
  }
  get parent(): Turn | null {
    return null;
  }
  /** Abort the turn's signal, if anyone looked at it (asks only). */
  abortTurn(_reason: unknown): void {}
}

/**
 * An ask: a call-chain link (like a {@link TellTurn}) that is also the one-shot reply channel —
 * `resolve`/`reject` of the caller's promise, its deadline and its cancellation. It settles
 * exactly once; whatever comes after is dropped and counted as late.
 *
 * Not a subclass of TellTurn: one is made per ask, and a base class whose fields are all assigned
 * in its own constructor is one small function for the JIT to inline into the caller, where a
 * subclass is three (its constructor, the base's, and the field initializers).
 */
export class ReplyChannel implements Turn, Expirable, DeferredReply<unknown> {
  declare readonly msg: CompiledMessage;
  declare input: unknown;
  declare readonly host: ReplyChannelOwner;
  /** DONE | FENCED | SETTLED | DEFERRED | KEPT, packed. */
  declare flags: number;
  /** The caller's promise functions. */
  declare resolve: ((value: unknown) => void) | null;
  declare rejectFn: ((error: unknown) => void) | null;
  declare deadline: number;
  declare bucket: Bucket | null;
  declare slot: number;
  /** The turn that sent this ask, or null. */
  declare readonly chain: Turn | null;
  declare extra: Extra | null;

  constructor(msg: CompiledMessage, input: unknown, host: ReplyChannelOwner, chain: Turn | null) {
    this.msg = msg;
    this.input = input;
    this.host = host;
    this.flags = 0;
    this.resolve = null;
    this.rejectFn = null;
    this.deadline = 0;
    this.bucket = null;
    this.slot = 0;
    this.chain = chain;
    this.extra = null;
  }

  /** The turn serving this ask has ended (it is no longer a live link of a call chain). */
  get done(): boolean {
    return (this.flags & DONE) !== 0;
  }
  set done(v: boolean) {
    this.flags = v ? this.flags | DONE : this.flags & ~DONE;
  }
  /** The incarnation that ran this turn is gone: its outcome reaches no one. */
  get fenced(): boolean {
    return (this.flags & FENCED) !== 0;
  }
  set fenced(v: boolean) {
    this.flags = v ? this.flags | FENCED : this.flags & ~FENCED;
  }
  /** Settled: replied to, failed, timed out or cancelled. */
  get settled(): boolean {
    return (this.flags & SETTLED) !== 0;
  }
  /** Always true (a TellTurn's is false): a flag test, cheaper than `instanceof`. */
  get isAsk(): boolean {
    return true;
  }
  // Turn.
  get actorId(): string {
    return this.host.id;
  }
  get owner(): object {
    return this.host;
  }

  /** Taken out of its turn with `ctx.defer()`: the turn's return value is not the reply. */
  get deferred(): boolean {
    return (this.flags & DEFERRED) !== 0;
  }
  set deferred(v: boolean) {
    this.flags = v ? this.flags | DEFERRED : this.flags & ~DEFERRED;
  }
  /**
   * Forwarded to an actor host (a worker thread): the reply belongs to the actor, not to the
   * incarnation, so a restart does not fail it (the host delivers it, or fails it itself).
   */
  get kept(): boolean {
    return (this.flags & KEPT) !== 0;
  }
  set kept(v: boolean) {
    this.flags = v ? this.flags | KEPT : this.flags & ~KEPT;
  }
  get parent(): Turn | null {
    return this.chain;
  }

  /** Settle with a value. False when already settled (the value is dropped). */
  succeed(value: unknown): boolean {
    if ((this.flags & SETTLED) !== 0) {
      this.host.late(this);
      return false;
    }
    this.flags |= SETTLED;
    this.host.settled(this);
    (this.resolve as (v: unknown) => void)(value);
    return true;
  }

  /** Settle with an error. False when already settled. */
  failWith(error: unknown): boolean {
    if ((this.flags & SETTLED) !== 0) {
      this.host.late(this);
      return false;
    }
    this.flags |= SETTLED;
    this.host.settled(this);
    this.abortTurn(error);
    (this.rejectFn as (e: unknown) => void)(error);
    return true;
  }

  expire(): void {
    this.host.expired(this);
  }

  /** Abort `ctx.signal` of the turn serving this ask, if anyone looked at it. */
  abortTurn(reason: unknown): void {
    const c = this.extra?.controller;
    if (c && !c.signal.aborted) c.abort(reason);
  }

  /** The signal the handler sees: aborted when the caller gives up. */
  get signal(): AbortSignal {
    this.extra ??= { signal: null, onAbort: null, controller: null };
    if (this.extra.controller === null) {
      this.extra.controller = new AbortController();
      if (this.settled) this.extra.controller.abort();
    }
    return this.extra.controller.signal;
  }

  // DeferredReply: the owner answers later.
  send(value: unknown): boolean {
    return this.host.deliverDeferred(this, value);
  }

  fail(error: unknown): boolean {
    return this.host.failDeferred(this, error);
  }
}

/**
 * Make the caller's promise for `channel`, an ask. The executor is a closure over `channel`: the JIT
 * inlines it into the Promise constructor, so the closure itself is never allocated, and the
 * resolving functions are stored into the (young) reply channel, not into a long-lived variable.
 */
export function promiseFor(channel: ReplyChannel): Promise<unknown> {
  return new Promise<unknown>((resolve, reject) => {
    channel.resolve = resolve;
    channel.rejectFn = reject;
  });
}

/** A message's turn (its call-chain link): an ask's reply channel, or the link made for a tell's turn. */
export type MessageTurn = TellTurn | ReplyChannel;
