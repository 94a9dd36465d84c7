import type { Clock, TimerHandle } from '../Clock.js';
import { RingBuffer } from './RingBuffer.js';
import { smallMs as smallMs_ } from './smallInt.js';

// An import read on every ask, through a module constant (why: see cell/Cell.ts).
const smallMs = smallMs_;

/** What the deadline lanes hold: anything with a deadline that settles once. */
export interface Expirable {
  deadline: number;
  /** The bucket holding it while it is pending, and its slot there. */
  bucket: Bucket | null;
  slot: number;
  readonly settled: boolean;
  /** Called once when the deadline passes before the item settled. */
  expire(): void;
}

const BUCKET_SIZE = 64;
const FINISHED: Array<Expirable | undefined> = [];

/**
 * Up to 64 consecutive items of one lane. Buckets are made as they fill, so an item is stored
 * into a young array: storing a new object into a long-lived array goes through the GC's slow
 * write barrier, and this is on every ask.
 */
export class Bucket {
  /** The items; released (emptied) once all 64 have settled. */
  items: Array<Expirable | undefined> = new Array(BUCKET_SIZE);
  /** Slots filled so far (the bucket is full at BUCKET_SIZE). */
  used = 0;
  /** Items still pending. */
  live = 0;
  constructor(readonly lane: Lane) {}
}

/**
 * The asks with one timeout value, in the order they were made. Their deadlines are
 * `now + timeoutMs` with a monotonic `now`, so a lane is sorted by construction: no heap, and
 * settled items leave from the head.
 */
export class Lane {
  readonly buckets = new RingBuffer<Bucket>();
  tail: Bucket | null = null;
  constructor(readonly timeoutMs: number) {}
}

/**
 * Keeps the process alive while asks are pending, without touching timers on the hot path: the
 * deadline timers are unref'd, and when the event loop runs dry (`beforeExit`) with asks still
 * pending, their timer is ref'd so that they end with ASK_TIMEOUT instead of the process exiting
 * under them.
 */
const open = new Set<WeakRef<Deadlines>>();
let keeperInstalled = false;
function keepAlive(d: Deadlines): void {
  open.add(d.selfRef);
  if (keeperInstalled) return;
  keeperInstalled = true;
  process.on('beforeExit', () => {
    for (const ref of open) {
      const x = ref.deref();
      if (x === undefined) open.delete(ref);
      else x.holdOpenIfPending();
    }
  });
}

/**
 * Every ask's deadline with one timer for the whole system, not one per ask. The timer is set for
 * the earliest unsettled deadline.
 */
export class Deadlines {
  readonly #clock: Clock;
  readonly #lanes = new Map<number, Lane>();
  #lastLane: Lane | null = null;
  #timer: TimerHandle | null = null;
  #timerAt = Number.POSITIVE_INFINITY;
  readonly #cacheable: boolean;
  #stamp = 0;
  #stampUses = 0;
  #stampExpiryQueued = false;
  /** @internal For the process-wide keeper. */
  readonly selfRef: WeakRef<Deadlines> = new WeakRef(this);

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#cacheable = clock.cacheable === true;
    keepAlive(this);
  }

  /**
   * A new reading of the clock for the asks starting now (add() reuses it while it is fresh). A
   * cacheable clock's reading is reused for up to 64 asks within one macrotask: a burst of asks
   * shares its start time, which can be early by at most the synchronous work done since the
   * reading (microseconds in a hot loop).
   */
  #read(): number {
    if (!this.#cacheable) return this.#clock.now();
    this.#stamp = this.#clock.now();
    this.#stampUses = 63;
    if (!this.#stampExpiryQueued) {
      this.#stampExpiryQueued = true;
      setImmediate(this.#expireStamp);
    }
    return this.#stamp;
  }

  /**
   * The time, for bookkeeping that needs no more precision than an ask's start time: the cached
   * reading while it lasts (see #read), else a new one.
   */
  now(): number {
    if (this.#stampUses > 0) {
      this.#stampUses--;
      return this.#stamp;
    }
    return this.#read();
  }

  readonly #expireStamp = (): void => {
    this.#stampUses = 0;
    this.#stampExpiryQueued = false;
  };

  /** @internal The loop is about to run dry: keep it alive for the pending asks' deadlines. */
  holdOpenIfPending(): void {
    if (this.#timer !== null && this.live > 0) this.#timer.ref?.();
  }

  /** Pending items (counted when asked: keeping a total would cost two writes per ask). */
  get live(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) for (const b of lane.buckets.toArray()) n += b.live;
    return n;
  }

  /** Track `item`, which expires `timeoutMs` from now. */
  add(item: Expirable, timeoutMs: number): void {
    // Small on purpose (this is inlined into every ask): the lane and bucket are found on the
    // slow path only when the timeout differs from the last one or the bucket is full.
    const lane = this.#lastLane;
    let bucket = lane === null || lane.timeoutMs !== timeoutMs ? null : lane.tail;
    if (bucket === null || bucket.used === BUCKET_SIZE) bucket = this.#openBucket(timeoutMs);
    // The start time: the cached reading while it lasts (inline: the JIT's inlining budget runs
    // out here on the ask path), else a new one.
    let now: number;
    if (this.#stampUses > 0) {
      this.#stampUses--;
      now = this.#stamp;
    } else {
      now = this.#read();
    }
    // A whole millisecond (rounded up: never early), kept a small integer: a fractional deadline
    // would make every reply channel carry a number box of its own (an allocation per ask).
    const deadline = smallMs(Math.ceil(now + timeoutMs));
    item.deadline = deadline;
    item.bucket = bucket;
    item.slot = bucket.used;
    bucket.items[bucket.used++] = item;
    bucket.live++;
    if (deadline < this.#timerAt) this.#arm(deadline);
  }

  /** The lane of `timeoutMs` (made if new), with room at its tail. */
  #openBucket(timeoutMs: number): Bucket {
    let lane = this.#lastLane;
    if (lane === null || lane.timeoutMs !== timeoutMs) {
      lane = this.#lanes.get(timeoutMs) ?? null;
      if (lane === null) {
        lane = new Lane(timeoutMs);
        this.#lanes.set(timeoutMs, lane);
      }
      this.#lastLane = lane;
    }
    let bucket = lane.tail;
    if (bucket === null || bucket.used === BUCKET_SIZE) {
      bucket = new Bucket(lane);
      lane.buckets.push(bucket);
      lane.tail = bucket;
    }
    return bucket;
  }

  /** `item` has settled: forget it (called once, by the item's owner). */
  done(item: Expirable): void {
    const bucket = item.bucket;
    if (bucket === null) return;
    item.bucket = null;
    // Clear the slot at once, so that a long-pending neighbour never keeps this item alive.
    bucket.items[item.slot] = undefined;
    if (--bucket.live === 0 && bucket.used === BUCKET_SIZE) this.#finished(bucket);
  }

  /** Every item of a full bucket has settled. */
  #finished(bucket: Bucket): void {
    // Release its array now, even if it must wait behind a pending head.
    bucket.items = FINISHED;
    // Drop the finished buckets at the head of the lane.
    const buckets = bucket.lane.buckets;
    while (buckets.length > 0) {
      const head = buckets.peek() as Bucket;
      if (head.live !== 0 || head.used !== BUCKET_SIZE) break;
      buckets.shift();
    }
  }

  /** Forget everything and cancel the timer (the system is gone). */
  close(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#lanes.clear();
    this.#lastLane = null;
    open.delete(this.selfRef);
  }

  #arm(at: number): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    const delay = Math.max(0, Math.ceil(at - this.#clock.now()));
    this.#timer = this.#clock.setTimeout(this.#sweep, delay);
    this.#timer.unref?.();
  }

  readonly #sweep = (): void => {
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const lane of this.#lanes.values()) {
      const buckets = lane.buckets;
      if (buckets.length === 0 && lane !== this.#lastLane) {
        // Per-call timeouts can make many lanes; an empty one costs nothing to make again.
        this.#lanes.delete(lane.timeoutMs);
        continue;
      }
      scan: while (buckets.length > 0) {
        const bucket = buckets.peek() as Bucket;
        for (let i = 0; i < bucket.used; i++) {
          const item = bucket.items[i];
          if (item === undefined) continue;
          if (item.deadline > now) {
            if (item.deadline < next) next = item.deadline;
            break scan;
          }
          // expire() settles the item, which calls done(): that clears its slot and drops the
          // bucket from the lane once all 64 have settled.
          item.expire();
        }
        // Still the head: the open tail (later items go there) or pending items. Else go on.
        if (buckets.peek() === bucket) break;
      }
      if (buckets.length === 0) lane.tail = null;
    }
    if (next !== Number.POSITIVE_INFINITY && next < this.#timerAt) this.#arm(next);
  };
}
