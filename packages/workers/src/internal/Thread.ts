import type { MessagePort, Transferable } from 'node:worker_threads';
import { type DeferredReply, WorkerLost } from '@holdfast/core';
import { crashActor, deliverReply, exitActor } from '@holdfast/core/host';
import type { Link } from './Link.js';
import { type FromWorker, fromWire, type ToWorker } from './wire.js';

/** An ask forwarded to the thread and not answered yet. */
interface Pending {
  readonly link: Link;
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
  /** Its heartbeat slot (a replacement takes over the slot). */
  readonly slot: number;
  readonly port: MessagePort;
  readonly abort = new AbortController();
  alive = true;
  /** The heartbeat count last seen, and when (performance.now) it last changed. */
  lastBeat = -1;
  lastChange = 0;
  readonly links = new Map<number, Link>();
  #nextA = 0;
  readonly #pending = new Map<number, Pending>();
  #nextSeq = 0;
  readonly #acks = new Map<string, Ack>();
  #out: ToWorker[] = [];
  #transfer: Transferable[] | null = null;
  #queued = false;
  /** The bootstrap task that runs the thread (settles when the thread ends). */
  task: Promise<unknown> | null = null;
  /** Its first heartbeat came: it has booted. */
  booted = false;

  readonly #beats: Int32Array;
  readonly #beatMs: number;

  constructor(no: number, slot: number, port: MessagePort, beats: Int32Array, beatMs: number) {
    this.no = no;
    this.slot = slot;
    this.port = port;
    this.#beats = beats;
    this.#beatMs = beatMs;
    this.lastChange = performance.now();
    port.on('message', (batch: FromWorker[]) => this.#receive(batch));
    // The port must not keep the process alive by itself: pending asks do (their deadlines).
    port.unref();
  }

  /** Actors placed here. */
  get load(): number {
    return this.links.size;
  }

  /** Asks in flight to this thread. */
  get inFlight(): number {
    return this.#pending.size;
  }

  nextActor(): number {
    return ++this.#nextA;
  }

  send(op: ToWorker, transfer?: readonly Transferable[]): void {
    this.#out.push(op);
    if (transfer !== undefined && transfer.length > 0) (this.#transfer ??= []).push(...transfer);
    if (!this.#queued) {
      this.#queued = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Forward an ask; the reply comes back through {@link #receive}. */
  ask(link: Link, op: Omit<Extract<ToWorker, { op: 'ask' }>, 's'>, reply: DeferredReply<unknown>, transfer?: readonly Transferable[]): number {
    const s = ++this.#nextSeq;
    this.#pending.set(s, { link, reply });
    this.send({ ...op, s }, transfer);
    return s;
  }

  /** Send `op` and wait for the thread's acknowledgement `ackOp` (rejects if the thread is lost). */
  request(op: ToWorker & { a: number }, ackOp: 'spawned' | 'ended' | 'stopped'): Promise<void> {
    if (!this.alive) return Promise.reject(new Error(`worker thread ${this.no} is gone`));
    const key = `${ackOp}:${op.a}`;
    return new Promise<void>((resolve, reject) => {
      this.#acks.set(key, { resolve, reject });
      this.send(op);
      if (ackOp !== 'spawned') this.#unlessStalled(key);
    });
  }

  /**
   * Stop waiting for an actor's end or stop when the thread's heartbeat stalls (it is busy in a
   * synchronous turn): its `onStop` there runs when the turn ends, and whatever follows on the
   * port (a start, a stop) is ordered after it. A stuck thread is the heartbeat sweep's business.
   */
  #unlessStalled(key: string): void {
    let beat = Atomics.load(this.#beats, this.slot);
    const timer = setInterval(
      () => {
        const now = Atomics.load(this.#beats, this.slot);
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

  flush(): void {
    this.#queued = false;
    if (this.#out.length === 0 || !this.alive) return;
    const batch = this.#out;
    const transfer = this.#transfer;
    this.#out = [];
    this.#transfer = null;
    try {
      this.port.postMessage(batch, transfer ?? undefined);
    } catch {
      // Something in the batch cannot be copied to a thread: send the rest one by one and fail
      // the asks that cannot go (their callers learn why; nothing else is lost).
      for (const op of batch) {
        try {
          this.port.postMessage(
            [op],
            transfer?.filter((t) => reaches(op, t)),
          );
        } catch (e) {
          this.#undeliverable(op, e as Error);
        }
      }
    }
  }

  /** `op` cannot be copied to the thread (a function or a class instance in it): tell whoever waits. */
  #undeliverable(op: ToWorker, e: Error): void {
    const why = (what: string) => new TypeError(`${what} cannot be copied to a worker thread: ${e.message}`);
    if (op.op === 'ask') {
      const p = this.#pending.get(op.s);
      this.#pending.delete(op.s);
      if (p === undefined) return;
      p.link.inFlight--;
      p.reply.fail(why(`the input of '${op.m}'`));
      p.link.onRoom();
    } else if (op.op === 'spawn') {
      const ack = this.#acks.get(`spawned:${op.a}`);
      this.#acks.delete(`spawned:${op.a}`);
      ack?.reject(why(`the spawn args of '${op.id}'`));
    } else if (op.op === 'tell') {
      this.links.get(op.a)?.undeliverableTell(op.m, op.i, why(`the input of '${op.m}'`));
    }
  }

  #receive(batch: FromWorker[]): void {
    for (const m of batch) {
      switch (m.op) {
        case 'reply': {
          const p = this.#pending.get(m.s);
          if (p === undefined) break;
          this.#pending.delete(m.s);
          p.link.inFlight--;
          // Checked against its schema on the worker thread.
          deliverReply(p.reply, m.v);
          p.link.onRoom();
          break;
        }
        case 'fail': {
          const p = this.#pending.get(m.s);
          if (p === undefined) break;
          this.#pending.delete(m.s);
          p.link.inFlight--;
          if (m.crash) {
            // The actor crashed in this turn: the `down` that follows carries the crash to the
            // steward here, whose decision goes into this caller's error.
            p.link.heldCrash = { reply: p.reply, error: fromWire(m.e) };
          } else if (!p.reply.settled) {
            p.reply.fail(fromWire(m.e));
          }
          p.link.onRoom();
          break;
        }
        case 'down': {
          const link = this.links.get(m.a);
          if (link === undefined) break;
          const held = link.heldCrash;
          link.heldCrash = null;
          if (m.kind === 'exit') {
            exitActor(link.ref);
          } else {
            const error = m.e === null ? new Error('the actor failed on its worker thread') : fromWire(m.e);
            const reason = m.reason === 'hung' || m.reason === 'invalid-reply' || m.reason === 'start-failed' ? m.reason : 'threw';
            if (!crashActor(link.ref, error, reason, held?.reply ?? null) && held !== null && !held.reply.settled) held.reply.fail(held.error);
          }
          break;
        }
        case 'spawned':
        case 'ended':
        case 'stopped': {
          const key = `${m.op}:${m.a}`;
          const ack = this.#acks.get(key);
          if (ack === undefined) break;
          this.#acks.delete(key);
          if (m.op === 'spawned' && m.e !== undefined) ack.reject(fromWire(m.e));
          else ack.resolve();
          break;
        }
        case 'hung':
        case 'error':
        case 'late':
        case 'dead':
        case 'log': {
          const link = this.links.get(m.a);
          if (link !== undefined) link.fromThread(m);
          break;
        }
      }
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
    this.#out = [];
    this.#transfer = null;
    for (const p of this.#pending.values()) {
      p.link.inFlight--;
      if (!p.reply.settled) p.reply.fail(new WorkerLost(p.link.id, this.no, cause));
    }
    this.#pending.clear();
    for (const ack of this.#acks.values()) ack.reject(new WorkerLost('(starting)', this.no, cause));
    this.#acks.clear();
    const links = [...this.links.values()];
    this.links.clear();
    for (const link of links) link.lost(this.no, cause);
    this.port.close();
  }
}

/** Whether a transferable belongs to this one message (checked only on the slow path). */
function reaches(op: ToWorker, t: Transferable): boolean {
  if (op.op !== 'ask' && op.op !== 'tell') return false;
  const seen = new Set<unknown>();
  const walk = (v: unknown): boolean => {
    if (v === t) return true;
    if (v === null || typeof v !== 'object' || seen.has(v)) return false;
    seen.add(v);
    if (ArrayBuffer.isView(v)) return v.buffer === t;
    for (const x of Object.values(v)) if (walk(x)) return true;
    return false;
  };
  return walk(op.i);
}
