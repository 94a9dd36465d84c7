/** A counter owned by one actor of some framework: the unit every scenario drives. */
export interface CounterHandle {
  /** Add `by` and answer the new total. */
  ask(by: number): Promise<number>;
  /** Add `by`, answer nothing. */
  tell(by: number): void;
}

/**
 * Realistic state: a `Map` of 16 counters keyed by strings, owned by one actor (the fan-out's
 * second shape). `ask` adds `by` to `key` and answers that key's new value.
 */
export interface KeyedHandle {
  ask(key: string, by: number): Promise<number>;
  tell(key: string, by: number): void;
}

/** The keys of a keyed actor's map. */
export const KEYS: readonly string[] = Array.from({ length: 16 }, (_, i) => `key-${i.toString().padStart(2, '0')}`);

/** The state every keyed actor starts with: its 16 keys at 0. */
export function keyedState(): Map<string, number> {
  return new Map(KEYS.map((k) => [k, 0]));
}

/** One framework (or the floor) as the harness drives it. */
export interface Contestant {
  readonly name: string;
  /** What a caller gets from it, written next to its numbers. */
  readonly semantics: string;
  /** It can hold a million actors in one process (the million-actor scenario runs only for these). */
  readonly million?: boolean;
  /** At most this many actors in the footprint scenario, for a contestant whose spawn time grows faster than linearly. */
  readonly maxActors?: number;
  /** Make a fresh system for one measurement. */
  open(): Promise<ContestantSystem> | ContestantSystem;
}

/** A system of one contestant, alive for one measurement. */
export interface ContestantSystem {
  spawn(id: string): CounterHandle;
  /** For frameworks whose spawn is asynchronous. */
  spawnAsync?(id: string): Promise<CounterHandle>;
  /** An actor whose state is a map of 16 string keys (see {@link KeyedHandle}). */
  spawnKeyed(id: string): KeyedHandle | Promise<KeyedHandle>;
  /**
   * Two actors that pass a counter back and forth as messages, `hops` times in all; resolves
   * with `hops` when it reaches zero. Absent where there are no actors to talk to each other.
   */
  pingPong?(hops: number): Promise<number>;
  close(): Promise<void>;
}

/** Spawn through whichever API the contestant has. */
export function spawnOne(sys: ContestantSystem, id: string): CounterHandle | Promise<CounterHandle> {
  return sys.spawnAsync !== undefined ? sys.spawnAsync(id) : sys.spawn(id);
}
