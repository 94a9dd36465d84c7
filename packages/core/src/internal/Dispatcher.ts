import { RingBuffer } from './RingBuffer.js';

/** What the dispatcher runs. */
export interface Runnable {
  /** Bit 1 (SCHEDULED): in the ready queue already. The other bits are the runnable's own. */
  flags: number;
  /** Run up to `budget` turns; returns how many ran and whether more are ready now. */
  runSome(budget: number): number;
  /** True when the runnable has queued work it can start now. */
  readonly ready: boolean;
}

/** Runnable.flags: in the ready queue (written here as a bit, not through a setter, to keep the send path small for the JIT). */
export const SCHEDULED = 1;
const PER_CELL = 64; // turns an actor runs before others get theirs (fairness)
const PER_TICK = 20_000; // turns per macrotask before timers and I/O get a chance
// A reaction on a settled promise is the cheapest microtask in Node (~50 ns, where
// queueMicrotask costs ~160 ns: it wraps every callback for async_hooks).
const resolved = Promise.resolve();

/**
 * One dispatcher per system drains the actors that have work: a flat ready queue, run from a
 * microtask, yielding to the event loop (setImmediate) after a budget of turns so that I/O and
 * timers are never starved by a busy system.
 */
export class Dispatcher {
  readonly #ready = new RingBuffer<Runnable>();
  #pending = false;
  /**
   * A turn said it is long (`ctx.heartbeat()`): the actor running stops after that turn and the
   * dispatcher yields to the event loop before it goes on, so that timers and I/O (and, on a
   * worker thread, the messages from the main thread) get in between long turns. Counting turns
   * alone cannot see a long one; reading the clock every turn would cost every turn.
   */
  yieldRequested = false;

  /** Queue `r` to run soon (no-op when it is queued already). */
  schedule(r: Runnable): void {
    if ((r.flags & SCHEDULED) !== 0) return;
    r.flags |= SCHEDULED;
    this.#ready.push(r);
    if (!this.#pending) {
      this.#pending = true;
      void resolved.then(this.#drain);
    }
  }

  /**
   * Run the ready actors now, instead of from the microtask already queued (which then finds
   * nothing to do). For an actor host that has just queued a batch from another thread and wants
   * the replies out before it returns to its event loop.
   */
  runNow(): void {
    if (this.#ready.length > 0) this.#drain();
  }

  readonly #drain = (): void => {
    // A request made outside a run of turns (an async turn that beat) is not for this run.
    this.yieldRequested = false;
    let budget = PER_TICK;
    const ready = this.#ready;
    while (budget > 0) {
      const r = ready.shift();
      if (r === undefined) {
        this.#pending = false;
        return;
      }
      r.flags &= ~SCHEDULED;
      budget -= r.runSome(Math.min(PER_CELL, budget)) || 1;
      if (r.ready) this.schedule(r);
      if (this.yieldRequested) {
        this.yieldRequested = false;
        break;
      }
    }
    if (ready.length > 0) setImmediate(this.#drain);
    else this.#pending = false;
  };
}
