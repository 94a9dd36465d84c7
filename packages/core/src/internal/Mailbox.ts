import type { CompiledMessage } from '../defineProtocol.js';
import type { ReplyChannel } from './ReplyChannel.js';

/** One queued message, as the rare paths (drop-oldest, stop) take it out. */
export interface MailboxEntry {
  readonly msg: CompiledMessage;
  readonly input: unknown;
  /** The ask's reply channel, or null for a tell. */
  readonly ask: ReplyChannel | null;
}

/** Slots per message: the message, its input, and its ask (or null). */
const W = 3;

/** Every empty mailbox's ring until its first message (never written: the first push grows it). */
const EMPTY: unknown[] = [];

/**
 * An actor's queue: a flat ring of (message, input, ask-or-null) slots. A tell is three stores
 * into the ring and allocates nothing; an ask adds its {@link ReplyChannel}, which is the reply
 * channel. The owner loop reads the head's slots directly, so it never loads anything from a
 * per-message object for a tell, and what it loads for an ask is always an ReplyChannel: the loop
 * stays monomorphic whatever mix of asks and tells an actor gets.
 */
export class Mailbox {
  #buf: unknown[];
  /** Slot index of the oldest message. */
  #head: number;
  /** Messages queued. */
  #size: number;

  constructor() {
    // Assigned here, not by field initializers (V8 runs those as a function of their own). The
    // ring starts as the shared empty one: an actor never sent anything allocates none.
    this.#buf = EMPTY;
    this.#head = 0;
    this.#size = 0;
  }

  get length(): number {
    return this.#size;
  }

  push(msg: CompiledMessage, input: unknown, ask: ReplyChannel | null): void {
    if (this.#size * W === this.#buf.length) this.grow();
    const buf = this.#buf;
    let i = this.#head + this.#size * W;
    if (i >= buf.length) i -= buf.length;
    buf[i] = msg;
    buf[i + 1] = input;
    buf[i + 2] = ask;
    this.#size++;
  }

  /** The oldest message, or undefined when empty. */
  headMsg(): CompiledMessage | undefined {
    return this.#size === 0 ? undefined : (this.#buf[this.#head] as CompiledMessage);
  }

  /** The oldest message's input (the mailbox is not empty). */
  headInput(): unknown {
    return this.#buf[this.#head + 1];
  }

  /** The oldest message's ask, or null for a tell (the mailbox is not empty). */
  headAsk(): ReplyChannel | null {
    return this.#buf[this.#head + 2] as ReplyChannel | null;
  }

  /** Remove the oldest message (the mailbox is not empty). */
  shift(): void {
    const buf = this.#buf;
    const h = this.#head;
    // The input and the ask are let go (they may be large, or hold a caller's promise); the
    // message is its type's, alive as long as the type: its slot is overwritten on reuse.
    buf[h + 1] = undefined;
    buf[h + 2] = undefined;
    const next = h + W;
    this.#head = next === buf.length ? 0 : next;
    this.#size--;
  }

  /** Remove the oldest message, a tell (its ask slot is null already: one store less than shift). */
  shiftTell(): void {
    const buf = this.#buf;
    const h = this.#head;
    buf[h + 1] = undefined;
    const next = h + W;
    this.#head = next === buf.length ? 0 : next;
    this.#size--;
  }

  /** Remove and return the oldest message, or undefined when empty. */
  take(): MailboxEntry | undefined {
    if (this.#size === 0) return undefined;
    const entry = this.entryAt(this.#head);
    this.shift();
    return entry;
  }

  /**
   * Remove and return the second message, keeping the first at the head (the owner loop keeps the
   * message it is running at the head; drop-oldest must not take it).
   */
  takeSecond(): MailboxEntry | undefined {
    if (this.#size < 2) return undefined;
    const buf = this.#buf;
    const h = this.#head;
    let s = h + W;
    if (s === buf.length) s = 0;
    const entry = this.entryAt(s);
    // Move the head into the second's place and drop the old head's slots.
    buf[s] = buf[h];
    buf[s + 1] = buf[h + 1];
    buf[s + 2] = buf[h + 2];
    buf[h] = buf[h + 1] = buf[h + 2] = undefined;
    this.#head = s;
    this.#size--;
    return entry;
  }

  /** Remove and return every message, oldest first. */
  drain(): MailboxEntry[] {
    const out: MailboxEntry[] = [];
    for (let e = this.take(); e !== undefined; e = this.take()) out.push(e);
    return out;
  }

  // Plain (TypeScript-private) methods, not #methods: a class with #methods gives every instance
  // a brand field, and every cell is a mailbox.
  private entryAt(i: number): MailboxEntry {
    const buf = this.#buf;
    return { msg: buf[i] as CompiledMessage, input: buf[i + 1], ask: buf[i + 2] as ReplyChannel | null };
  }

  private grow(): void {
    const old = this.#buf;
    // One message first (most actors hold one at a time: an idle actor stays small), then doubling.
    const next: unknown[] = new Array(old.length === 0 ? W : old.length * 2);
    let j = this.#head;
    for (let i = 0; i < this.#size * W; i++) {
      next[i] = old[j];
      if (++j === old.length) j = 0;
    }
    this.#buf = next;
    this.#head = 0;
  }
}
