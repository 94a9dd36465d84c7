import { type AnyProtocol, type CompiledMessage, type InputOf, type MessageName, messageIn as messageIn_, Refused, type ReplyOf } from './defineProtocol.js';
import { InvalidMessage } from './errors.js';
import type { Cell } from './internal/cell/Cell.js';
import type { BoundTable } from './internal/cell/handlers.js';
import { ASK_ZOD as ASK_ZOD_ } from './internal/compileSchema.js';
import type { AskOptions } from './options.js';

// Imports read on every send, through module constants (why: see internal/cell/Cell.ts).
const ASK_ZOD = ASK_ZOD_;
const messageIn = messageIn_;

/** How core reaches a ref's cell (set once by the class's static block; see {@link cellOf}). */
let getCell: (ref: ActorRef) => Cell;
let setCell: (ref: ActorRef, cell: Cell) => void;

/**
 * The address of an actor: the only way to reach its state. It stays valid across restarts
 * (same id, new incarnation); once the actor is stopped, asks fail with `ACTOR_STOPPED` and
 * tells become dead letters.
 *
 * Methods never throw: every failure of `ask` and `send` is a rejected promise, and `tell`'s
 * failures go to the dead-letter stream.
 *
 * @example
 * ```ts
 * const counter = system.spawn(Counter, { id: 'c1', args: {} });
 * await counter.ask('add', { key: 'a', by: 2 });          // 2
 * counter.tell('add', { key: 'a', by: 1 });               // fire and forget
 * await counter.ask('get', { key: 'a' }, { timeoutMs: 100 });
 * ```
 */
export class ActorRef<P extends AnyProtocol = AnyProtocol> {
  #cell: Cell;
  // The cell's message table and whether it checks inputs, kept here too: a send reads them
  // first, and each hop less (ref → table rather than ref → cell → type → table) is a load the
  // CPU does not wait for in every send.
  #table: BoundTable;
  #checks: boolean;

  static {
    getCell = (ref) => ref.#cell;
    setCell = (ref, cell) => {
      ref.#cell = cell;
      ref.#table = cell.table;
      ref.#checks = cell.opts.validateInput;
    };
  }

  /** @internal Refs are made by `system.spawn`. */
  constructor(cell: Cell) {
    this.#cell = cell;
    this.#table = cell.table;
    this.#checks = cell.opts.validateInput;
  }

  /** The actor's id, unique in its system. */
  get id(): string {
    return this.#cell.id;
  }

  /** The actor's type name. */
  get type(): string {
    return this.#cell.def.name;
  }

  /** The protocol the actor speaks. */
  get protocol(): P {
    return this.#cell.def.protocol as P;
  }

  /**
   * Send `message` and wait for the reply. The input is checked against the protocol before it is
   * queued (`INVALID_MESSAGE`, nothing queued). Settles exactly once: with the reply, or with
   * `ASK_TIMEOUT`, `CANCELLED`, `ACTOR_CRASHED`, `ACTOR_STOPPED`, `REJECTED`, `MAILBOX_FULL`,
   * `SHUTTING_DOWN` or `DEADLOCK`.
   *
   * @example
   * ```ts
   * const n: number = await counter.ask('add', { key: 'a', by: 1 }, { timeoutMs: 200 });
   * ```
   */
  ask<K extends MessageName<P>>(message: K, input: InputOf<P, K>, options?: AskOptions): Promise<ReplyOf<P, K>> {
    const cell = this.#cell;
    const msg = messageIn(this.#table, message);
    // Small on purpose, like tell: the JIT inlines this and Cell.ask into the caller.
    if (msg === undefined) return askChecked(cell, msg, message, input, options) as Promise<ReplyOf<P, K>>;
    if (!this.#checks) return cell.ask(msg, input, options) as Promise<ReplyOf<P, K>>;
    const fast = msg.fastInput;
    const value = fast === null ? ASK_ZOD : fast(input);
    if (value === ASK_ZOD) return askChecked(cell, msg, message, input, options) as Promise<ReplyOf<P, K>>;
    return cell.ask(msg, value, options) as Promise<ReplyOf<P, K>>;
  }

  /**
   * Send `message` without waiting for anything. Never throws: an invalid input, a stopped actor or
   * a full mailbox makes a dead letter (see `system.deadLetters`).
   *
   * @example
   * ```ts
   * counter.tell('reset', {});
   * ```
   */
  tell<K extends MessageName<P>>(message: K, input: InputOf<P, K>): void {
    const cell = this.#cell;
    const msg = messageIn(this.#table, message);
    // Small on purpose: the JIT inlines this and Cell.tell into the caller's loop, with the
    // compiled input check when it takes the input; anything else goes to tellChecked.
    if (msg === undefined) tellChecked(cell, msg, message, input);
    else if (!this.#checks) cell.tell(msg, input);
    else {
      const fast = msg.fastInput;
      const value = fast === null ? ASK_ZOD : fast(input);
      if (value === ASK_ZOD) tellChecked(cell, msg, message, input);
      else cell.tell(msg, value);
    }
  }

  /**
   * Like `tell`, but resolves once the message is in the mailbox, and waits for room when the
   * mailbox's policy is `wait` (backpressure). Rejects like `ask` does when it cannot be queued.
   *
   * @example
   * ```ts
   * for (const sample of samples) await sink.send('record', sample);
   * ```
   */
  send<K extends MessageName<P>>(message: K, input: InputOf<P, K>, options?: AskOptions): Promise<void> {
    const cell = this.#cell;
    const msg = messageIn(cell.table, message);
    if (msg === undefined) return Promise.reject(unknownMessage(cell, message));
    let value: unknown = input;
    if (cell.opts.validateInput) {
      value = msg.checkInput(input);
      if (value instanceof Refused) {
        cell.core.counters.rejectedInputs++;
        return Promise.reject(new InvalidMessage({ actor: cell.id, message, issues: value.issues }));
      }
    }
    return cell.send(msg, value, options);
  }

  toString(): string {
    return `ActorRef(${this.#cell.def.name}:${this.#cell.id})`;
  }

  toJSON(): { actor: string; type: string } {
    return { actor: this.#cell.id, type: this.#cell.def.name };
  }
}

// The checked paths of ask and tell, as functions of the cell (not #methods of the class: a class
// with #methods gives every instance a brand field, and every actor has a ref).

function askChecked(cell: Cell, msg: CompiledMessage | undefined, message: string, input: unknown, options: AskOptions | undefined): Promise<unknown> {
  if (msg === undefined) return Promise.reject(unknownMessage(cell, message));
  const value = msg.checkInput(input);
  if (value instanceof Refused) {
    cell.core.counters.rejectedInputs++;
    return Promise.reject(new InvalidMessage({ actor: cell.id, message, issues: value.issues }));
  }
  return cell.ask(msg, value, options);
}

function tellChecked(cell: Cell, msg: CompiledMessage | undefined, message: string, input: unknown): void {
  if (msg === undefined) {
    invalidTell(cell, message, input, unknownMessage(cell, message));
    return;
  }
  const value = msg.checkInput(input);
  if (value instanceof Refused) invalidTell(cell, message, input, new InvalidMessage({ actor: cell.id, message, issues: value.issues }));
  else cell.tell(msg, value);
}

function invalidTell(cell: Cell, message: string, input: unknown, error: InvalidMessage): void {
  cell.core.counters.rejectedInputs++;
  cell.core.deadLetter({ actor: cell.id, message, input, reason: 'invalid-message', wasAsk: false, error, at: cell.core.clock.now() });
}

function unknownMessage(cell: Cell, message: string): InvalidMessage {
  return InvalidMessage.unknownMessage(cell.id, cell.def.protocol.name, message);
}

/** @internal The cell behind a ref (for the system). */
export function cellOf(ref: ActorRef): Cell {
  return getCell(ref);
}

/** @internal Point a durable actor's ref at the cell that serves it now (it was asleep and woke). */
export function retarget(ref: ActorRef, cell: Cell): void {
  setCell(ref, cell);
}
