import type { DeferredReply } from '../defineActor.js';
import type { CompiledMessage } from '../defineProtocol.js';
import type { ChainTurn } from './callChain.js';
import type { Expirable, Lane } from './Deadlines.js';

/** The cell side of an envelope: where settling reports to. */
export interface EnvelopeHost {
  /** Called once when an ask settles, to release its deadline and signal listener. */
  settled(env: Envelope): void;
  /** The ask's deadline passed before it settled. */
  expired(env: Envelope): void;
  /** A reply or failure arrived after the ask had settled. */
  late(env: Envelope): void;
  /** Check (in dev/test mode) and deliver a deferred reply. */
  deliverDeferred(env: Envelope, value: unknown): boolean;
  /** Deliver a deferred failure. */
  failDeferred(env: Envelope, error: unknown): boolean;
}

/** Rarely used parts of an ask, allocated only when needed. */
interface Extra {
  /** The caller's signal and the listener we put on it. */
  signal: AbortSignal | null;
  onAbort: (() => void) | null;
  /** Backs `ctx.signal` / `reply.signal` (made on first use). */
  controller: AbortController | null;
}

/**
 * One message in a mailbox. For an ask it is also the one-shot reply channel: `resolve`/`reject`
 * of the caller's promise, its deadline and its cancellation. It settles exactly once; whatever
 * comes after is dropped and counted as late.
 */
export class Envelope implements Expirable, DeferredReply<unknown> {
  readonly msg: CompiledMessage;
  input: unknown;
  readonly host: EnvelopeHost;
  /** The caller's promise functions; null for a tell. */
  resolve: ((value: unknown) => void) | null = null;
  rejectFn: ((error: unknown) => void) | null = null;
  settled = false;
  deadline = 0;
  lane: Lane | null = null;
  /** The turn that sent this ask, or null. */
  readonly chain: ChainTurn | null;
  /** The ask's timeout (for the error message). */
  timeoutMs = 0;
  extra: Extra | null = null;
  /** Taken out of its turn with `ctx.defer()`: pending until sent, failed, or the incarnation ends. */
  deferred = false;

  constructor(msg: CompiledMessage, input: unknown, host: EnvelopeHost, chain: ChainTurn | null) {
    this.msg = msg;
    this.input = input;
    this.host = host;
    this.chain = chain;
  }

  get isAsk(): boolean {
    return this.resolve !== null;
  }

  /** Settle with a value. False when already settled (the value is dropped). */
  succeed(value: unknown): boolean {
    if (this.settled) {
      this.host.late(this);
      return false;
    }
    this.settled = true;
    this.host.settled(this);
    (this.resolve as (v: unknown) => void)(value);
    return true;
  }

  /** Settle with an error. False when already settled. */
  failWith(error: unknown): boolean {
    if (this.settled) {
      this.host.late(this);
      return false;
    }
    this.settled = true;
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
      if (this.settled && this.resolve !== null) this.extra.controller.abort();
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
