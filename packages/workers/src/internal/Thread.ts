import type { MessagePort, Transferable } from 'node:worker_threads';
import { type DeferredReply, InvalidMessage, WorkerLost } from '@holdfast/core';
import { WorkerError } from '../errors.js';
import { Batch } from './Batch.js';
import type { StandIn } from './StandIn.js';
import {
  ASK,
  CANCEL,
  type Control,
  CRASHED,
  FAIL,
  type FromWorkerBatch,
  fromWire,
  REPLY,
  type Report,
  SIZE,
  TELL,
  toWorkerSize,
  UNCOPYABLE,
  type WireError,
} from './wire.js';

/** An ask forwarded to the thread and not answered yet. */
interface Pending {
  readonly standIn: StandIn;
  readonly message: string;
  readonly reply: DeferredReply<unknown>;
}

/** A request to the thread that the main thread waits on (spawn, end, stop), by `op:a`. */
interface Ack {
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/**
 * The main thread's side of one worker thread: its port, the actors placed on it, the asks in
 * flight to it, and its heartbeat as last seen. Outgoing messages are batched per tick.
 */
export class Thread {
  /** Its number, unique over the host's life (a replacement gets a new one). */
  readonly no: number;
  readonly port: MessagePort;
  readonly abort = new AbortController();
  alive = true;
  /** The heartbeat count last seen, and when (performance.now) it last changed. */
  lastBeat = -1;
  lastChange = 0;
  /** Its first heartbeat came: it has booted. */
  booted = false;
  /** The bootstrap task that runs the thread (settles when the thread ends). */
  task: Promise<unknown> | null = null;
  readonly standIns = new Map<number, StandIn>();
  #nextA = 0;
  readonly #pending = new Map<number, Pending>();
  #nextSeq = 0;
  readonly #acks = new Map<string, Ack>();
  /** What goes to the thread, batched per tick. */
  readonly #out: Batch;
  /** Its heartbeat: a counter in shared memory that the thread bumps every `beatMs`. */
  readonly beats = new Int32Array(new SharedArrayBuffer(4));
  readonly #beatMs: number;

  constructor(no: number, port: MessagePort, beatMs: number) {
    this.no = no;
    this.port = port;
    this.#beatMs = beatMs;
    this.lastChange = performance.now();
    this.#out = new Batch(port, toWorkerSize, (one, e) => this.#undeliverable(one, e));
    port.on('message', (batch: FromWorkerBatch) => this.#receive(batch));
    // The port must not keep the process alive by itself: pending asks do (their deadlines).
    port.unref();
  }

  /** The heartbeat count now. */
  get beat(): number {
    return Atomics.load(this.beats, 0);
  }

  /** Actors placed here. */
  get load(): number {
    return this.standIns.size;
  }

  /** Asks in flight to this thread. */
  get inFlight(): number {
    return this.#pending.size;
  }

  nextActor(): number {
    return ++this.#nextA;
  }

  /** Send a rare message. */
  control(op: Control): void {
    this.#out.items.push(op);
    this.#out.queue();
  }

  tell(actorNo: number, message: string, input: unknown, transfer: readonly Transferable[] | undefined): void {
    const out = this.#out;
    out.items.push(TELL, actorNo, message, input);
    out.transfer(transfer);
    out.queue();
  }

  /** Forward an ask (`timeoutMs`: the thread's own deadline; `cancellable`: the caller may cancel); the reply comes back through {@link #receive}. */
  ask(
    link: StandIn,
    message: string,
    input: unknown,
    timeoutMs: number,
    cancellable: 0 | 1,
    reply: DeferredReply<unknown>,
    transfer: readonly Transferable[] | undefined,
  ): number {
    const s = ++this.#nextSeq;
    this.#pending.set(s, { standIn: link, message, reply });
    const out = this.#out;
    out.items.push(ASK, link.actorNo, s, message, input, timeoutMs, cancellable);
    out.transfer(transfer);
    out.queue();
    return s;
  }

  cancel(actorNo: number, s: number): void {
    this.#out.items.push(CANCEL, actorNo, s);
    this.#out.queue();
  }

  /** Send `op` and wait for the thread's acknowledgement `ackOp` (rejects if the thread is lost). */
  request(op: Control & { actor: number }, ackOp: 'spawned' | 'ended' | 'stopped'): Promise<void> {
    if (!this.alive) return Promise.reject(new WorkerError('THREAD_ENDED', `worker thread ${this.no} is gone`, { thread: this.no }));
    const key = `${ackOp}:${op.actor}`;
    return new Promise<void>((resolve, reject) => {
      this.#acks.set(key, { resolve, reject });
      this.control(op);
      if (ackOp !== 'spawned') this.#unlessStalled(key);
    });
  }

  /**
   * Stop waiting for an actor's end or stop when the thread's heartbeat stalls (it is busy in a
   * synchronous turn): its `onStop` there runs when the turn ends, and whatever follows on the
   * port (a start, a stop) is ordered after it. A stuck thread is the heartbeat sweep's business.
   */
  #unlessStalled(key: string): void {
    let beat = this.beat;
    const timer = setInterval(
      () => {
        const now = this.beat;
        const ack = this.#acks.get(key);
        if (ack === undefined) {
          clearInterval(timer);
        } else if (now === beat) {
          clearInterval(timer);
          this.#acks.delete(key);
          ack.resolve();
        }
        beat = now;
      },
      2 * this.#beatMs + 5,
    );
    timer.unref();
  }

  /** Post what is batched for the thread now. */
  flush(): void {
    if (this.alive) this.#out.flush();
  }

  /** A message that cannot be copied to the thread: whoever waits on it is told why. */
  #undeliverable(one: unknown[], e: Error): void {
    const issue = { code: 'custom', path: [], message: `cannot be copied to a worker thread (${e.message})` };
    const head = one[0];
    if (head === ASK) {
      const s = one[2] as number;
      const p = this.#pending.get(s);
      this.#pending.delete(s);
      if (p === undefined) return;
      p.standIn.inFlight--;
      p.reply.fail(new InvalidMessage({ actor: p.standIn.id, message: p.message, issues: [issue] }));
      p.standIn.onRoom();
    } else if (head === TELL) {
      const link = this.standIns.get(one[1] as number);
      link?.undeliverableTell(one[2] as string, one[3], new InvalidMessage({ actor: link.id, message: one[2] as string, issues: [issue] }));
    } else if (typeof head === 'object' && head !== null && (head as Control).op === 'spawn') {
      const op = head as Extract<Control, { op: 'spawn' }>;
      const ack = this.#acks.get(`spawned:${op.actor}`);
      this.#acks.delete(`spawned:${op.actor}`);
      ack?.reject(
        new WorkerError('NOT_CLONEABLE', `the spawn args of '${op.id}' cannot be copied to a worker thread: ${e.message}`, { actor: op.id }, { cause: e }),
      );
    }
  }

  #receive(batch: FromWorkerBatch): void {
    const pending = this.#pending;
    for (let k = 0; k < batch.length; ) {
      const head = batch[k];
      if (head === REPLY) {
        const p = pending.get(batch[k + 1] as number);
        if (p !== undefined) {
          pending.delete(batch[k + 1] as number);
          p.standIn.inFlight--;
          // Checked against its schema on the worker thread.
          p.standIn.seam.deliver(p.reply, batch[k + 2]);
          p.standIn.onRoom();
        }
        k += SIZE.REPLY;
      } else if (head === FAIL) {
        const p = pending.get(batch[k + 1] as number);
        if (p !== undefined) {
          pending.delete(batch[k + 1] as number);
          p.standIn.inFlight--;
          const flag = batch[k + 3];
          const error = flag === UNCOPYABLE ? p.standIn.uncopyableReply(p.message, batch[k + 2] as WireError) : fromWire(batch[k + 2] as WireError);
          if (flag === CRASHED) {
            // The actor crashed in this turn: the `down` that follows carries the crash to the
            // steward here, whose decision goes into this caller's error.
            p.standIn.heldCrash = { reply: p.reply, error };
          } else if (!p.reply.settled) {
            p.reply.fail(error);
          }
          p.standIn.onRoom();
        }
        k += SIZE.FAIL;
      } else {
        this.#report(head as Report);
        k += 1;
      }
    }
  }

  #report(m: Report): void {
    switch (m.op) {
      case 'down': {
        const link = this.standIns.get(m.actor);
        if (link === undefined) return;
        const held = link.heldCrash;
        link.heldCrash = null;
        if (m.kind === 'exit') {
          link.seam.exit(link.ref);
          return;
        }
        const error = m.error === null ? new WorkerError('THREAD_ENDED', 'the actor failed on its worker thread', {}) : fromWire(m.error);
        const reason = m.reason === 'hung' || m.reason === 'invalid-reply' || m.reason === 'start-failed' ? m.reason : 'threw';
        if (!link.seam.crash(link.ref, error, reason, held?.reply ?? null) && held !== null && !held.reply.settled) held.reply.fail(held.error);
        return;
      }
      case 'spawned':
      case 'ended':
      case 'stopped': {
        const key = `${m.op}:${m.actor}`;
        const ack = this.#acks.get(key);
        if (ack === undefined) return;
        this.#acks.delete(key);
        if (m.op === 'spawned' && m.error !== undefined) ack.reject(fromWire(m.error));
        else ack.resolve();
        return;
      }
      default:
        this.standIns.get(m.actor)?.fromThread(m);
    }
  }

  /**
   * The thread is gone (its heartbeat stopped, it ran out of memory, it exited): every ask in
   * flight to it fails with `WORKER_LOST` at once, and each of its actors is reported crashed to
   * its steward, which restarts it (on another thread) by its restart type.
   */
  lose(cause: Error): void {
    if (!this.alive) return;
    this.alive = false;
    this.#out.drop();
    for (const p of this.#pending.values()) {
      p.standIn.inFlight--;
      if (!p.reply.settled) p.reply.fail(new WorkerLost(p.standIn.id, this.no, cause));
    }
    this.#pending.clear();
    for (const ack of this.#acks.values()) ack.reject(new WorkerLost('(starting)', this.no, cause));
    this.#acks.clear();
    const standIns = [...this.standIns.values()];
    this.standIns.clear();
    for (const link of standIns) link.lost(this.no, cause);
    this.port.close();
  }
}
