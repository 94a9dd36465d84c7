import { randomInt } from 'node:crypto';

/** What the registry holds: something with an id, and a slot for its place in the order of registration. */
export interface Registered {
  readonly id: string;
  /** Set by the registry: the order of registration (see {@link IdRegistry.values}). */
  seq: number;
}

/** Per process, so that which ids share a hash cannot be known outside it. */
const SEED = randomInt(0x40000000);

/**
 * A small integer from a string: Murmur-style mixing of each UTF-16 unit, seeded per process.
 * Equal hashes are expected (about 5 among 100,000 ids) and handled; this only has to spread.
 */
export function hashOf(id: string): number {
  let h = SEED ^ id.length;
  for (let i = 0; i < id.length; i++) {
    h = Math.imul(h ^ id.charCodeAt(i), 0x5bd1e995);
    h ^= h >>> 15;
  }
  // 30 bits: a small integer on every platform, stored in the map's entry itself.
  return h & 0x3fffffff;
}

/**
 * The actors of a system by id: the same answers as a `Map<string, T>`, at a third of its cost
 * for a spawn at 100,000 actors and more.
 *
 * Why not a Map keyed by the id: to find a string key, a Map visits every key on its hash chain,
 * and each is a string somewhere in the heap — a cache miss per visit, most of a spawn's time in
 * a large system. Here the map's keys are small integers (a hash of the id, computed in JS),
 * which it compares where they are stored; a new id, the usual case, touches no other actor.
 * Ids whose hash another id has too are kept by id in a second map, which uses V8's own seeded
 * string hashing: ids made to collide, on purpose or not, cost what a Map costs, never more.
 *
 * `hash` is for tests (a constant makes every id share one).
 */
export class IdRegistry<T extends Registered> {
  /** Hash → the value whose id has it, or, when several ids have it, how many (they are in #shared). */
  readonly #byHash = new Map<number, T | number>();
  /** The values whose id shares its hash with another id's, by id. */
  readonly #shared = new Map<string, T>();
  readonly #hash: (id: string) => number;
  #size = 0;
  #seq = 0;

  constructor(hash: (id: string) => number = hashOf) {
    this.#hash = hash;
  }

  get size(): number {
    return this.#size;
  }

  get(id: string): T | undefined {
    const e = this.#byHash.get(this.#hash(id));
    if (e === undefined) return undefined;
    if (typeof e === 'number') return this.#shared.get(id);
    return e.id === id ? e : undefined;
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /**
   * Register `value` under its id unless that id is taken: false then, and nothing changes. One
   * look-up, where `has` then `set` take two.
   */
  add(value: T): boolean {
    const id = value.id;
    const h = this.#hash(id);
    const e = this.#byHash.get(h);
    if (e === undefined) {
      this.#byHash.set(h, value);
    } else if (typeof e === 'number') {
      if (this.#shared.has(id)) return false;
      this.#byHash.set(h, e + 1);
      this.#shared.set(id, value);
    } else {
      if (e.id === id) return false;
      this.#byHash.set(h, 2);
      this.#shared.set(e.id, e);
      this.#shared.set(id, value);
    }
    value.seq = ++this.#seq;
    this.#size++;
    return true;
  }

  /** Register `value` under its id: in place of any value with that id, in its place in the order (as a Map does). */
  set(value: T): void {
    if (this.add(value)) return;
    // The id is taken: the new value takes the old one's place.
    const id = value.id;
    const h = this.#hash(id);
    const e = this.#byHash.get(h) as T | number;
    if (typeof e === 'number') {
      value.seq = (this.#shared.get(id) as T).seq;
      this.#shared.set(id, value);
    } else {
      value.seq = e.seq;
      this.#byHash.set(h, value);
    }
  }

  /** Forget `id`, only if it is registered to `value` when one is given. True when it was. */
  delete(id: string, value?: T): boolean {
    const h = this.#hash(id);
    const e = this.#byHash.get(h);
    if (e === undefined) return false;
    if (typeof e === 'number') {
      const v = this.#shared.get(id);
      if (v === undefined || (value !== undefined && v !== value)) return false;
      this.#shared.delete(id);
      if (e === 1) this.#byHash.delete(h);
      else this.#byHash.set(h, e - 1);
    } else {
      if (e.id !== id || (value !== undefined && e !== value)) return false;
      this.#byHash.delete(h);
    }
    this.#size--;
    return true;
  }

  /** Call `fn` with every value, in no particular order (cheaper than `values`, which sorts). */
  forEach(fn: (value: T) => void): void {
    for (const e of this.#byHash.values()) if (typeof e !== 'number') fn(e);
    for (const v of this.#shared.values()) fn(v);
  }

  /** Whether `test` holds for every value (in no particular order). */
  every(test: (value: T) => boolean): boolean {
    for (const e of this.#byHash.values()) if (typeof e !== 'number' && !test(e)) return false;
    for (const v of this.#shared.values()) if (!test(v)) return false;
    return true;
  }

  /** Every value, in the order of registration (a copy: the registry may change while the caller goes through it). */
  values(): T[] {
    const out: T[] = [];
    for (const e of this.#byHash.values()) if (typeof e !== 'number') out.push(e);
    if (this.#shared.size === 0) return out;
    for (const v of this.#shared.values()) out.push(v);
    return out.sort((a, b) => a.seq - b.seq);
  }
}
