/** A counter owned by one actor of some framework: the unit every scenario drives. */
export interface CounterHandle {
  /** Add `by` and answer the new total. */
  ask(by: number): Promise<number>;
  /** Add `by`, answer nothing. */
  tell(by: number): void;
}

/** One framework (or the floor) as the harness drives it. */
export interface Contestant {
  readonly name: string;
  /** What a caller gets from it, written next to its numbers. */
  readonly semantics: string;
  /** Make a fresh system for one measurement. */
  open(): Promise<ContestantSystem> | ContestantSystem;
}

/** A system of one contestant, alive for one measurement. */
export interface ContestantSystem {
  spawn(id: string): CounterHandle;
  close(): Promise<void>;
}
