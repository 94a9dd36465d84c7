import type { Supervised } from './Supervised.js';

/**
 * A steward's children in start order: a doubly linked list through the children's own
 * `prevSibling` and `nextSibling` fields. Adding and removing a child allocate nothing and hash
 * nothing: a set of the children cost an entry, its growth and an identity hash for every spawn
 * (a root steward holds every actor spawned with `system.spawn`). A child is in its parent
 * steward's list only: `has` trusts that.
 */
export class Children {
  #head: Supervised | null = null;
  #tail: Supervised | null = null;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  has(child: Supervised): boolean {
    return child.prevSibling !== null || this.#head === child;
  }

  /** Append `child` (the newest); no-op when it is in already. */
  add(child: Supervised): void {
    if (this.has(child)) return;
    const tail = this.#tail;
    child.prevSibling = tail;
    child.nextSibling = null;
    if (tail === null) this.#head = child;
    else tail.nextSibling = child;
    this.#tail = child;
    this.#size++;
  }

  /** Take `child` out; false when it was not in. */
  delete(child: Supervised): boolean {
    if (!this.has(child)) return false;
    const prev = child.prevSibling;
    const next = child.nextSibling;
    if (prev === null) this.#head = next;
    else prev.nextSibling = next;
    if (next === null) this.#tail = prev;
    else next.prevSibling = prev;
    child.prevSibling = null;
    child.nextSibling = null;
    this.#size--;
    return true;
  }

  /** The children, oldest first (a copy: the list may change while the caller goes through it). */
  values(): Supervised[] {
    const out: Supervised[] = new Array(this.#size);
    let i = 0;
    for (let c = this.#head; c !== null; c = c.nextSibling) out[i++] = c;
    return out;
  }
}
