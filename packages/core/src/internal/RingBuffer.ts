/**
 * A growable FIFO over a power-of-two array. Mailboxes, the ready queue and the deadline lanes
 * use it: push and shift are O(1) and allocate only when the buffer doubles.
 */
export class RingBuffer<T> {
  // Starts empty so that an idle actor's mailbox costs one small array.
  #buf: Array<T | undefined> = [];
  #head = 0;
  #size = 0;

  get length(): number {
    return this.#size;
  }

  push(item: T): void {
    const buf = this.#buf;
    if (this.#size === buf.length) this.#grow();
    this.#buf[(this.#head + this.#size) & (this.#buf.length - 1)] = item;
    this.#size++;
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const buf = this.#buf;
    const item = buf[this.#head];
    buf[this.#head] = undefined;
    this.#head = (this.#head + 1) & (buf.length - 1);
    this.#size--;
    return item;
  }

  /**
   * Remove and return the second item, keeping the first at the head (the owner loop keeps the
   * message it is running at the head; drop-oldest must not take it).
   */
  shiftSecond(): T | undefined {
    if (this.#size < 2) return undefined;
    const buf = this.#buf;
    const mask = buf.length - 1;
    const second = (this.#head + 1) & mask;
    const item = buf[second];
    buf[second] = buf[this.#head];
    buf[this.#head] = undefined;
    this.#head = second;
    this.#size--;
    return item;
  }

  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#buf[this.#head];
  }

  /** Remove and return every item, oldest first. */
  drain(): T[] {
    const out: T[] = new Array(this.#size);
    for (let i = 0; i < out.length; i++) out[i] = this.shift() as T;
    return out;
  }

  /** The items, oldest first, without removing them. */
  toArray(): T[] {
    const out: T[] = new Array(this.#size);
    const buf = this.#buf;
    for (let i = 0; i < this.#size; i++) out[i] = buf[(this.#head + i) & (buf.length - 1)] as T;
    return out;
  }

  #grow(): void {
    const old = this.#buf;
    const cap = old.length === 0 ? 4 : old.length * 2;
    const next: Array<T | undefined> = new Array(cap);
    for (let i = 0; i < this.#size; i++) next[i] = old[(this.#head + i) & (old.length - 1)];
    this.#buf = next;
    this.#head = 0;
  }
}
