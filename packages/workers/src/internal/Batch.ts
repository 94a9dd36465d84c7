import type { MessagePort, Transferable } from 'node:worker_threads';

/**
 * What one side of a thread posts to the other, batched: messages pushed during a burst go out
 * in one post (one structured clone, one wake-up on the other side), from a microtask or when
 * `flush` is called. Both sides use it; the message formats are in `wire.ts`.
 *
 * Callers push straight into `items` (flat messages are several slots each: no object per
 * message) and call `queue()`.
 */
export class Batch {
  /** The messages of the batch being made, in order. */
  items: unknown[] = [];
  #transfer: Transferable[] | null = null;
  #queued = false;
  readonly #port: MessagePort;
  readonly #sizeOf: (head: unknown) => number;
  readonly #uncopyable: (message: unknown[], error: Error) => void;
  readonly #flush = () => this.flush();

  /**
   * @param sizeOf how many slots the message at the head takes (see `wire.ts`)
   * @param uncopyable what to do with a message that cannot be copied to the other side (tell whoever waits on it)
   */
  constructor(port: MessagePort, sizeOf: (head: unknown) => number, uncopyable: (message: unknown[], error: Error) => void) {
    this.#port = port;
    this.#sizeOf = sizeOf;
    this.#uncopyable = uncopyable;
  }

  /** Post the batch from a microtask, unless it goes out before. */
  queue(): void {
    if (!this.#queued) {
      this.#queued = true;
      queueMicrotask(this.#flush);
    }
  }

  /** Buffers (and ports) in the messages pushed since the last flush that move rather than copy. */
  transfer(list: readonly Transferable[] | undefined): void {
    if (list !== undefined && list.length > 0) (this.#transfer ??= []).push(...list);
  }

  /** Post what is batched now. */
  flush(): void {
    this.#queued = false;
    if (this.items.length === 0) return;
    const batch = this.items;
    const transfer = this.#transfer;
    this.items = [];
    this.#transfer = null;
    try {
      if (transfer === null) this.#port.postMessage(batch);
      else this.#port.postMessage(batch, transfer);
    } catch {
      this.#oneByOne(batch, transfer);
    }
  }

  /** Forget what is batched (the other side is gone). */
  drop(): void {
    this.items = [];
    this.#transfer = null;
  }

  /**
   * Something in the batch cannot be copied (a function or a class instance in an input or a
   * reply): send the rest one by one, and hand what cannot go to `uncopyable`. Nothing else is lost.
   */
  #oneByOne(batch: unknown[], transfer: Transferable[] | null): void {
    for (let k = 0; k < batch.length; ) {
      const one = batch.slice(k, k + this.#sizeOf(batch[k]));
      k += one.length;
      try {
        this.#port.postMessage(
          one,
          transfer?.filter((t) => reaches(one, t)),
        );
      } catch (e) {
        this.#uncopyable(one, e instanceof Error ? e : new Error(String(e)));
      }
    }
  }
}

/** Whether `t` is one of the message's values or inside one. */
function reaches(one: unknown[], t: Transferable): boolean {
  const seen = new Set<unknown>();
  const walk = (v: unknown): boolean => {
    if (v === t) return true;
    if (v === null || typeof v !== 'object' || seen.has(v)) return false;
    seen.add(v);
    if (ArrayBuffer.isView(v)) return v.buffer === t;
    for (const x of Object.values(v)) if (walk(x)) return true;
    return false;
  };
  return one.some(walk);
}
