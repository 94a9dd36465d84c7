// Admission: who may queue what, and where it goes. The gate (stopped, draining, down, fenced,
// traced), the mailbox bound and its overflow policy (reject, drop-oldest, wait), waiting
// senders, the caller's options (timeout, signal, transfer) and dead letters. The common ask and
// tell never come here: Cell.ask and Cell.tell take them in a few lines.

import { unknownKey } from '../../checkKeys.js';
import type { CompiledMessage } from '../../defineProtocol.js';
import { ActorStopped, AskTimeout, Cancelled, Deadlock, InvalidArgument, isHoldfastError, MailboxFull, ShuttingDown } from '../../errors.js';
import type { DeadLetterReason } from '../../events.js';
import type { AskOptions } from '../../options.js';
import { currentTurn, findCycle, outputGate, type Turn } from '../callChain.js';
import type { Bucket, Expirable } from '../Deadlines.js';
import { MAX_KEY_LENGTH } from '../durable/KeptReplies.js';
import { ASK_KEYS } from '../optionKeys.js';
import { promiseFor, ReplyChannel } from '../ReplyChannel.js';
import { RingBuffer } from '../RingBuffer.js';
import type { Cell } from './Cell.js';
import { holdAsk, holdTell } from './durable.js';
import { durableTarget } from './durableWake.js';
import { GATE_DOWN, GATE_REMOTE, GATE_TRACE, GATE_ZOMBIE, RESTARTING, rareOf, STOPPING } from './parts.js';
import { remoteAsk, remoteSend, remoteTell } from './remote.js';
import { traceAsk, traceEvent } from './trace.js';

/** For option errors of send and ask (made only when there is one). */
const sendWhere = (message: string, id: string): string => `send '${message}' to '${id}'`;
const askWhere = (message: string, id: string): string => `ask '${message}' to '${id}'`;

/** A `send` waiting for room in a `wait` mailbox. */
export class SendWaiter implements Expirable {
  deadline = 0;
  bucket: Bucket | null = null;
  slot = 0;
  settled = false;
  constructor(
    readonly msg: CompiledMessage,
    readonly input: unknown,
    readonly cell: Cell,
    readonly resolve: () => void,
    readonly reject: (e: unknown) => void,
    readonly timeoutMs: number,
  ) {}
  settle(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.cell.core.deadlines.done(this);
    if (error === undefined) this.resolve();
    else this.reject(error);
  }
  expire(): void {
    this.cell.core.counters.timeouts++;
    this.settle(new AskTimeout(this.cell.id, this.msg.name, this.timeoutMs));
  }
}

export type Waiting = ReplyChannel | SendWaiter;

export function askSlow(cell: Cell, msg: CompiledMessage, input: unknown, options: AskOptions | undefined, turn: Turn | null): Promise<unknown> {
  // Sent from a durable turn whose state is not committed yet: it leaves with the commit.
  if (turn !== null && outputGate.turns !== 0) {
    const held = holdAsk(cell, msg, input, options, turn);
    if (held !== null) return held;
  }
  return askQueued(cell, msg, input, options, turn);
}

/** An ask past the output gate: queue it (or refuse it). */
export function askQueued(cell: Cell, msg: CompiledMessage, input: unknown, options: AskOptions | undefined, turn: Turn | null): Promise<unknown> {
  if ((cell.gate & GATE_REMOTE) !== 0) return remoteAsk(cell, msg, input, options, turn);
  if (cell.durable !== null) {
    const target = durableTarget(cell);
    if (target !== cell) {
      if (target instanceof Error) {
        cell.core.counters.asks++;
        return Promise.reject(target);
      }
      return askQueued(target, msg, input, options, turn);
    }
  }
  const core = cell.core;
  core.counters.asks++;
  let traced = false;
  if (cell.gate !== 0) {
    const refused = refuseAsk(cell, turn);
    if (refused !== null) return Promise.reject(refused);
    traced = (cell.gate & GATE_TRACE) !== 0;
  }
  if (turn !== null) {
    const cycle = findCycle(turn, cell, cell.id);
    if (cycle !== null) {
      core.counters.deadlocks++;
      return Promise.reject(new Deadlock(cycle));
    }
  }
  let timeoutMs = cell.opts.askTimeoutMs;
  let signal: AbortSignal | undefined;
  if (options !== undefined) {
    const refused = checkOptions(cell, msg, options);
    if (refused !== null) return Promise.reject(refused);
    timeoutMs = options.timeoutMs ?? timeoutMs;
    signal = options.signal;
  }
  const mailbox = cell.mailbox;
  let full = mailbox.length >= cell.opts.capacity || (cell.waiters !== null && cell.waiters.length > 0);
  if (full) full = isFull(cell);
  if (full && cell.opts.overflow === 'reject') {
    core.counters.mailboxFull++;
    return Promise.reject(new MailboxFull(cell.id, cell.opts.capacity));
  }
  const channel = new ReplyChannel(msg, input, cell, turn);
  const promise = promiseFor(channel);
  core.deadlines.add(channel, timeoutMs);
  if (signal !== undefined) watchSignal(cell, channel, signal);
  if (options !== undefined) keepOptions(channel, options);
  if (traced) traceAsk(cell, msg, input, promise);
  if (full) {
    if (cell.opts.overflow === 'wait') {
      cell.waiters ??= new RingBuffer();
      cell.waiters.push(channel);
      return promise;
    }
    dropOldest(cell);
  }
  mailbox.push(msg, input, channel);
  if (!cell.scheduled && !cell.busy) core.dispatcher.schedule(cell);
  return promise;
}

/**
 * @internal An ask from an actor host's side (a message that came over a thread boundary, its
 * input checked by the sender): no call chain, no tracing, and the outcome goes to `resolve` /
 * `reject` instead of a promise. The mailbox bound was enforced by the sender.
 */
export function hostAsk(
  cell: Cell,
  msg: CompiledMessage,
  input: unknown,
  timeoutMs: number,
  signal: AbortSignal | null,
  resolve: (v: unknown) => void,
  reject: (e: unknown) => void,
): void {
  if (cell.gate !== 0) {
    const refused = refuseAsk(cell, null);
    if (refused !== null) {
      reject(refused);
      return;
    }
  }
  cell.core.counters.asks++;
  const channel = new ReplyChannel(msg, input, cell, null);
  channel.resolve = resolve;
  channel.rejectFn = reject;
  cell.core.deadlines.add(channel, timeoutMs);
  if (signal !== null) watchSignal(cell, channel, signal);
  cell.mailbox.push(msg, input, channel);
  if (!cell.scheduled && !cell.busy) cell.core.dispatcher.schedule(cell);
}

/** A tell when the gate is not open (stopped, draining, traced) or the mailbox is full. */
export function tellSlow(cell: Cell, msg: CompiledMessage, input: unknown): void {
  // Sent from a durable turn whose state is not committed yet: it leaves with the commit.
  if (outputGate.turns !== 0 && holdTell(cell, msg, input)) return;
  tellQueued(cell, msg, input);
}

/** A tell past the output gate: queue it (or make it a dead letter). */
export function tellQueued(cell: Cell, msg: CompiledMessage, input: unknown): void {
  if ((cell.gate & GATE_REMOTE) !== 0) {
    remoteTell(cell, msg, input);
    return;
  }
  if (cell.durable !== null) {
    const target = durableTarget(cell);
    if (target !== cell) {
      if (target instanceof Error) deadLetter(cell, msg.name, input, isHoldfastError(target, 'STORE_UNAVAILABLE') ? 'store-unavailable' : 'stopped', false);
      else tellQueued(target, msg, input);
      return;
    }
  }
  let traced = false;
  if (cell.gate !== 0) {
    const refused = refuseTell(cell);
    if (refused !== null) {
      deadLetter(cell, msg.name, input, refused, false);
      return;
    }
    traced = (cell.gate & GATE_TRACE) !== 0;
  }
  const mailbox = cell.mailbox;
  if (mailbox.length >= cell.opts.capacity || cell.waiters !== null) {
    if (overflowTell(cell, msg, input)) return;
  }
  mailbox.push(msg, input, null);
  if (!cell.scheduled && !cell.busy) cell.core.dispatcher.schedule(cell);
  if (traced) traceEvent(cell, { actor: cell.id, at: Date.now(), dir: 'in', kind: 'tell', message: msg.name, input });
}

/** Why an ask cannot be queued now (the gate is not open), or null. */
export function refuseAsk(cell: Cell, turn: Turn | null): Error | null {
  if (cell.status >= STOPPING) return new ActorStopped(cell.id, cell.stopReason);
  if (cell.core.draining && turn === null) return new ShuttingDown(cell.core.name);
  if ((cell.gate & GATE_ZOMBIE) !== 0 && turn !== null && turn.fenced && turn.owner === cell) return new ActorStopped(cell.id, 'restarting');
  if ((cell.gate & GATE_DOWN) !== 0 && cell.status === RESTARTING) return new ActorStopped(cell.id, 'restarting');
  return null;
}

/** Why a tell cannot be queued now (the gate is not open), or null. */
export function refuseTell(cell: Cell): DeadLetterReason | null {
  if (cell.status >= STOPPING) return 'stopped';
  const turn = currentTurn();
  if (cell.core.draining && turn === null) return 'shutting-down';
  if ((cell.gate & GATE_ZOMBIE) !== 0 && turn !== null && turn.fenced && turn.owner === cell) return 'fenced';
  if ((cell.gate & GATE_DOWN) !== 0 && cell.status === RESTARTING) return 'restarting';
  return null;
}

/**
 * Full for a new message: at capacity, or senders already waiting. The message whose handler
 * is running now is still at the mailbox head and does not count.
 */
export function isFull(cell: Cell): boolean {
  const queued = cell.mailbox.length - (cell.inHandler ? 1 : 0);
  return queued >= cell.opts.capacity || (cell.waiters !== null && cell.waiters.length > 0);
}

/** A tell met a full mailbox (or waiting senders): true when it became a dead letter. */
export function overflowTell(cell: Cell, msg: CompiledMessage, input: unknown): boolean {
  if (!isFull(cell)) return false;
  if (cell.opts.overflow !== 'drop-oldest') {
    cell.core.counters.mailboxFull++;
    deadLetter(cell, msg.name, input, 'mailbox-full', false);
    return true;
  }
  dropOldest(cell);
  return false;
}

/** Queue a tell, waiting for room in a `wait` mailbox. Resolves once queued. */
export function sendWaiting(cell: Cell, msg: CompiledMessage, input: unknown, options: AskOptions | undefined): Promise<void> {
  if ((cell.gate & GATE_REMOTE) !== 0) return remoteSend(cell, msg, input, options);
  if (cell.durable !== null) {
    const target = durableTarget(cell);
    if (target instanceof Error) return Promise.reject(target);
    if (target !== cell) return sendWaiting(target, msg, input, options);
  }
  const core = cell.core;
  if (options !== undefined) {
    const unknown = unknownKey(sendWhere, options, ASK_KEYS, msg.name, cell.id) ?? refuseSendKey(msg, options);
    if (unknown !== null) return Promise.reject(unknown);
  }
  if (cell.gate !== 0) {
    const refused = refuseAsk(cell, currentTurn());
    if (refused !== null) return Promise.reject(refused);
  }
  const full = isFull(cell);
  if (!full || cell.opts.overflow !== 'wait') {
    if (full && cell.opts.overflow === 'reject') {
      core.counters.mailboxFull++;
      return Promise.reject(new MailboxFull(cell.id, cell.opts.capacity));
    }
    cell.tell(msg, input);
    return Promise.resolve();
  }
  if (options !== undefined) {
    const refused = checkOptions(cell, msg, options);
    if (refused !== null) return Promise.reject(refused);
  }
  const timeoutMs = options?.timeoutMs ?? cell.opts.askTimeoutMs;
  return new Promise<void>((resolve, reject) => {
    const w = new SendWaiter(msg, input, cell, resolve, reject, timeoutMs);
    core.deadlines.add(w, timeoutMs);
    const signal = options?.signal;
    if (signal !== undefined) {
      const onAbort = () => {
        core.counters.cancelled++;
        w.settle(new Cancelled(cell.id, msg.name, signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const settle = w.settle.bind(w);
      w.settle = (e) => {
        signal.removeEventListener('abort', onAbort);
        settle(e);
      };
    }
    cell.waiters ??= new RingBuffer();
    cell.waiters.push(w);
  });
}

/** What is wrong with an ask's or a send's options (a bad timeout or signal, or one already aborted), or null. */
export function checkOptions(cell: Cell, msg: CompiledMessage, options: AskOptions): Error | null {
  const unknown = unknownKey(askWhere, options, ASK_KEYS, msg.name, cell.id);
  if (unknown !== null) return unknown;
  const { timeoutMs, signal } = options;
  if (timeoutMs !== undefined && (!(timeoutMs > 0) || !Number.isFinite(timeoutMs))) {
    return new InvalidArgument(`timeoutMs must be a positive finite number, got ${timeoutMs}`);
  }
  if (options.transfer !== undefined && !Array.isArray(options.transfer)) return new InvalidArgument('transfer must be an array of transferable objects');
  const key = options.idempotencyKey;
  if (key !== undefined) {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH)
      return new InvalidArgument(`idempotencyKey must be a string of 1 to ${MAX_KEY_LENGTH} characters`);
    if (cell.def.behaviour.durable === undefined)
      return new InvalidArgument(`idempotencyKey is for asks to durable actors: '${cell.id}' (${cell.def.name}) keeps no state to keep a reply with`);
  }
  if (signal === undefined) return null;
  if (!(signal instanceof AbortSignal)) return new InvalidArgument('signal must be an AbortSignal');
  if (signal.aborted) {
    cell.core.counters.cancelled++;
    return new Cancelled(cell.id, msg.name, signal.reason);
  }
  return null;
}

/** What an ask's channel carries of its options besides the deadline and the signal. */
export function keepOptions(channel: ReplyChannel, options: AskOptions): void {
  if (options.transfer !== undefined) (channel.extra ??= { signal: null, onAbort: null, controller: null }).transfer = options.transfer;
  if (options.idempotencyKey !== undefined) (channel.extra ??= { signal: null, onAbort: null, controller: null }).key = options.idempotencyKey;
}

/** `send` takes an ask's options, except the one that only a reply can use. */
export function refuseSendKey(msg: CompiledMessage, options: AskOptions): Error | null {
  return options.idempotencyKey === undefined ? null : new InvalidArgument(`send '${msg.name}': idempotencyKey is for asks (a send has no reply to keep)`);
}

export function watchSignal(cell: Cell, channel: ReplyChannel, signal: AbortSignal): void {
  const onAbort = () => {
    cell.core.counters.cancelled++;
    channel.failWith(new Cancelled(cell.id, channel.msg.name, signal.reason));
  };
  channel.extra ??= { signal: null, onAbort: null, controller: null };
  channel.extra.signal = signal;
  channel.extra.onAbort = onAbort;
  signal.addEventListener('abort', onAbort, { once: true });
}

export function dropOldest(cell: Cell): void {
  // While a handler runs synchronously its message is the head: drop the one behind it.
  const old = cell.inHandler ? cell.mailbox.takeSecond() : cell.mailbox.take();
  if (old === undefined) return;
  rareOf(cell).dropped++;
  cell.core.counters.dropped++;
  if (old.ask !== null && !old.ask.settled) old.ask.failWith(new MailboxFull(cell.id, cell.opts.capacity, true));
  deadLetter(cell, old.msg.name, old.input, 'dropped', old.ask !== null);
}

/** Move waiting senders into the mailbox while there is room. */
export function admit(cell: Cell): void {
  const waiters = cell.waiters as RingBuffer<Waiting>;
  while (waiters.length > 0 && cell.mailbox.length < cell.opts.capacity) {
    const w = waiters.shift() as Waiting;
    if (w.settled) continue;
    if (w instanceof SendWaiter) {
      cell.mailbox.push(w.msg, w.input, null);
      w.settle(undefined);
    } else {
      cell.mailbox.push(w.msg, w.input, w);
    }
  }
}

export function deadLetter(cell: Cell, message: string, input: unknown, reason: DeadLetterReason, wasAsk: boolean): void {
  cell.core.deadLetter({ actor: cell.id, message, input, reason, wasAsk, at: cell.core.clock.now() });
}
