import type { Transferable } from 'node:worker_threads';
import { type ActorRef, type ActorSystem, type AnyProtocol, type DeferredReply, InvalidReply, type Logger, type StopReason, WorkerLost } from '@holdfast/core';
import { type HostSeam, hostSeam } from '@holdfast/core/host';
import type { Thread } from './Thread.js';
import { fromWire, type Report, type WireError } from './wire.js';

/** How much longer than its caller an ask may run on the thread (the main thread times it out first). */
const DEADLINE_SLACK_MS = 50;

/**
 * The thread's timeout for an ask: the caller's remaining wait plus the slack, rounded up to a
 * 25 ms step (the thread's deadline lanes are per distinct timeout: a few values, not one per ask).
 */
function threadDeadline(remaining: number): number {
  return Math.ceil((Math.max(1, remaining) + DEADLINE_SLACK_MS) / 25) * 25;
}

/** A message held on the main thread: the thread has `capacity` in flight, or the actor is between threads. */
interface HeldMessage {
  readonly message: string;
  readonly input: unknown;
  readonly reply: DeferredReply<unknown> | null;
  readonly transfer: readonly Transferable[] | undefined;
}

/** What a link needs from its host. */
export interface StandInHost {
  readonly name: string;
  /** The live thread with the fewest actors (throws once the host is closed); `module` is what it will load. */
  place(module: string): Thread;
}

/** What the actor type needs to place an actor. */
export interface StandInType {
  readonly typeName: string;
  readonly module: string;
  readonly protocol: AnyProtocol;
}

/**
 * The main thread's side of one worker-hosted actor, across its incarnations: where it lives,
 * the asks in flight to it, and the messages held back. The actor's stand-in (an ordinary actor
 * whose handlers forward) keeps the mailbox, deadlines, validation and supervision.
 */
export class StandIn {
  readonly ref: ActorRef;
  readonly id: string;
  readonly host: StandInHost;
  readonly type: StandInType;
  readonly system: ActorSystem;
  /** Core's door for hosts: forwarding, delivering, crashes and what the thread reports. */
  readonly seam: HostSeam;
  log: Logger;
  thread: Thread | null = null;
  /** Its number on `thread`. */
  actorNo = 0;
  /** Asks forwarded and not answered. */
  inFlight = 0;
  /** The most asks in flight to the thread at once (the mailbox capacity). */
  readonly capacity: number;
  /** The reply of an ask whose turn crashed on the thread, until the crash report (`down`) comes. */
  heldCrash: { readonly reply: DeferredReply<unknown>; readonly error: Error } | null = null;
  /** The incarnation on the thread was ended (`end`): the next start must begin the next one. */
  #workerDown = false;
  readonly #held: HeldMessage[] = [];
  #heldHead = 0;
  #roomWaiters: Array<() => void> = [];
  /** A turn is waiting for room: it proves progress to the main steward with every answer. */
  #waiting = false;

  constructor(ref: ActorRef, host: StandInHost, type: StandInType, system: ActorSystem, log: Logger) {
    this.ref = ref;
    this.id = ref.id;
    this.host = host;
    this.type = type;
    this.system = system;
    this.seam = hostSeam(system);
    this.log = log;
    this.capacity = this.seam.settings(ref).capacity;
  }

  get typeName(): string {
    return this.type.typeName;
  }

  get held(): number {
    return this.#held.length - this.#heldHead;
  }

  // ---------------------------------------------------------------- lifecycle (from the stand-in's hooks)

  /** The stand-in's incarnation starts: place the actor on a thread, or start its next incarnation there. */
  async start(log: Logger): Promise<void> {
    this.log = log;
    const t = this.thread;
    if (t === null || !t.alive) {
      await this.#spawn();
    } else if (this.#workerDown) {
      this.#workerDown = false;
      t.control({ op: 'start', actor: this.actorNo });
    }
    this.#flushHeld();
  }

  async #spawn(): Promise<void> {
    const t = this.host.place(this.type.module);
    const actorNo = t.nextActor();
    this.thread = t;
    this.actorNo = actorNo;
    this.#workerDown = false;
    t.standIns.set(actorNo, this);
    const s = this.seam.settings(this.ref);
    try {
      await t.request(
        {
          op: 'spawn',
          actor: actorNo,
          id: this.id,
          module: this.type.module,
          protocol: this.type.protocol.name,
          args: s.args,
          settings: { incarnation: s.incarnation, capacity: s.capacity, hangTimeoutMs: s.hangTimeoutMs, stopTimeoutMs: s.stopTimeoutMs },
        },
        'spawned',
      );
    } catch (e) {
      if (this.thread === t) {
        t.standIns.delete(actorNo);
        this.thread = null;
      }
      throw e;
    }
  }

  /** The stand-in's incarnation ends: end the one on the thread (its `onStop` runs there). */
  async end(reason: StopReason): Promise<void> {
    const t = this.thread;
    if (t === null || !t.alive || this.#workerDown) return;
    this.#workerDown = true;
    await t.request({ op: 'end', actor: this.actorNo, reason }, 'ended').catch(() => {});
  }

  /** The actor stopped for good: take it off its thread. */
  async release(reason: StopReason): Promise<void> {
    const t = this.thread;
    this.thread = null;
    this.#held.length = 0;
    this.#heldHead = 0;
    this.#wake();
    if (t === null || !t.alive) return;
    await t.request({ op: 'stop', actor: this.actorNo, reason }, 'stopped').catch(() => {});
    t.standIns.delete(this.actorNo);
  }

  /** Its thread was lost: report the crash (its asks in flight have failed with `WORKER_LOST`). */
  lost(threadNo: number, cause: Error): void {
    this.thread = null;
    // An ask whose turn crashed, waiting for the crash report that will not come now.
    const held = this.heldCrash;
    this.heldCrash = null;
    if (held !== null && !held.reply.settled) held.reply.fail(new WorkerLost(this.id, threadNo, cause));
    this.#workerDown = false;
    this.log.error({ err: cause, thread: threadNo }, 'worker thread lost');
    this.seam.crash(this.ref, new WorkerLost(this.id, threadNo, cause), 'worker-lost', null);
  }

  // ---------------------------------------------------------------- messages (from the stand-in's handlers)

  /**
   * Forward the message being handled (its handler runs now, synchronously). Returns a promise
   * (the turn waits) when the thread has `capacity` asks in flight.
   */
  forward(m: string, i: unknown): Promise<void> | undefined {
    const { reply, transfer } = this.seam.forward();
    const t = this.thread;
    if (t === null || !t.alive || this.inFlight >= this.capacity || this.held > 0) {
      this.#held.push({ message: m, input: i, reply, transfer });
      if (t === null || !t.alive) return undefined;
      this.#waiting = true;
      return new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
    this.#post(t, m, i, reply, transfer);
    return undefined;
  }

  #post(t: Thread, m: string, i: unknown, reply: DeferredReply<unknown> | null, transfer: readonly Transferable[] | undefined): void {
    if (reply === null) {
      t.tell(this.actorNo, m, i, transfer);
      return;
    }
    // It timed out or was cancelled while held here: it never runs.
    if (reply.settled) return;
    const c = this.seam.callerMayCancel(reply);
    this.inFlight++;
    const s = t.ask(this, m, i, threadDeadline(this.seam.remainingMs(reply)), c ? 1 : 0, reply, transfer);
    if (c) {
      reply.signal.addEventListener(
        'abort',
        () => {
          if (t.alive && this.thread === t) t.cancel(this.actorNo, s);
        },
        { once: true },
      );
    }
  }

  /** An answer came back: there may be room for held messages. */
  onRoom(): void {
    if (this.#waiting) this.seam.heartbeat(this.ref);
    if (this.held > 0) this.#flushHeld();
  }

  #flushHeld(): void {
    const t = this.thread;
    if (t === null || !t.alive || this.#workerDown) return;
    while (this.#heldHead < this.#held.length && this.inFlight < this.capacity) {
      const p = this.#held[this.#heldHead] as HeldMessage;
      this.#held[this.#heldHead++] = undefined as unknown as HeldMessage;
      this.#post(t, p.message, p.input, p.reply, p.transfer);
    }
    if (this.#heldHead === this.#held.length) {
      this.#held.length = 0;
      this.#heldHead = 0;
      this.#wake();
    }
  }

  #wake(): void {
    this.#waiting = false;
    const waiters = this.#roomWaiters;
    if (waiters.length === 0) return;
    this.#roomWaiters = [];
    for (const w of waiters) w();
  }

  // ---------------------------------------------------------------- what the thread reports

  /** A tell whose input cannot be copied to a thread: a dead letter, as for any undeliverable tell. */
  undeliverableTell(message: string, input: unknown, error: Error): void {
    this.log.warn({ message, err: error }, 'tell not delivered');
    this.seam.deadLetter(this.ref, { message, input, reason: 'dropped', wasAsk: false });
  }

  /**
   * A reply that could not be copied back (a function or a class instance in it): its caller gets
   * `INVALID_REPLY`, and, as for a bad deferred reply, the actor goes on and an `error` event says so.
   */
  uncopyableReply(message: string, why: WireError): Error {
    const error = new InvalidReply({
      actor: this.id,
      message,
      issues: [{ code: 'custom', path: [], message: `cannot be copied to the main thread (${why.message})` }],
    });
    this.seam.error(this.ref, `reply to '${message}'`, error);
    this.log.error({ err: error, message }, `reply to '${message}' failed`);
    return error;
  }

  fromThread(m: Extract<Report, { op: 'hung' | 'error' | 'late' | 'dead' | 'log' }>): void {
    switch (m.op) {
      case 'hung':
        this.seam.hung(this.ref, m.message, m.silentMs, m.timeoutMs);
        break;
      case 'error':
        this.seam.error(this.ref, m.where, fromWire(m.error));
        break;
      case 'late':
        this.seam.lateReply(this.ref, m.message);
        break;
      case 'dead':
        this.seam.deadLetter(this.ref, { message: m.message, input: m.input, reason: m.reason as never, wasAsk: m.wasAsk });
        break;
      case 'log': {
        // The main thread's logger names the actor already.
        const { system: _s, actor: _a, type: _t, incarnation: _i, ...fields } = m.obj;
        const obj = { ...fields, thread: this.thread?.no };
        if (m.msg === undefined) this.log[m.level](obj);
        else this.log[m.level](obj, m.msg);
        break;
      }
    }
  }
}
