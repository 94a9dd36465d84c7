import type { Clock, TimerHandle } from '../Clock.js';

interface ManualTimer extends TimerHandle {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to. Inject it into a system to test timeouts, timers,
 * restart windows and heartbeats without sleeping.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const system = createSystem({ clock });
 * const p = slow.ask('work', {}, { timeoutMs: 100 });
 * await clock.advanceAsync(100); // p rejects with ASK_TIMEOUT
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: ManualTimer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t: ManualTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    // Keep timers sorted by (at, seq): equal deadlines fire in the order they were set.
    let i = this.#timers.length;
    while (i > 0 && compare(this.#timers[i - 1] as ManualTimer, t) > 0) i--;
    this.#timers.splice(i, 0, t);
    return t;
  }

  clearTimeout(handle: TimerHandle): void {
    const t = handle as ManualTimer;
    if (t.cancelled) return;
    t.cancelled = true;
    const i = this.#timers.indexOf(t);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Move time forward by `ms`, firing due timers in order (synchronously). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const t = this.#timers[0];
      if (t === undefined || t.at > target) break;
      this.#timers.shift();
      this.#now = Math.max(this.#now, t.at);
      t.cancelled = true;
      t.fn();
    }
    this.#now = target;
  }

  /**
   * Move time forward by `ms`, firing due timers in order and letting promise continuations run
   * after each one (so that async code reacts between timers, as it would in real time).
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (;;) {
      const t = this.#timers[0];
      if (t === undefined || t.at > target) break;
      this.#timers.shift();
      this.#now = Math.max(this.#now, t.at);
      t.cancelled = true;
      t.fn();
      await settle();
    }
    this.#now = target;
    await settle();
  }
}

function compare(a: ManualTimer, b: ManualTimer): number {
  return a.at - b.at || a.seq - b.seq;
}

/** Let queued promise continuations and immediates run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
