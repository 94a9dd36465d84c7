// The replies a durable actor keeps to its keyed asks (`AskOptions.idempotencyKey`): the most
// recent `keepReplies` of them, in the order they were given, written with the actor's state in
// the same commit and loaded with it when it wakes. A retried ask whose key is kept gets its
// reply from here instead of running its handler again.
//
// Invariants:
// - Only what turns whose state is committed or enlisted for a commit gave is here: a crash
//   throws the state away and the next incarnation loads what is stored, replies included.
// - `changed` says the list differs from what the last sealed commit carries.
import type { StoredReply } from '../../store.js';

/** The longest idempotency key accepted. */
export const MAX_KEY_LENGTH = 200;

export class KeptReplies {
  readonly #keep: number;
  readonly #byKey = new Map<string, StoredReply>();
  /** Replies were added since the last commit was sealed. */
  changed = false;

  constructor(keep: number, stored: readonly StoredReply[] | undefined) {
    this.#keep = keep;
    if (!Array.isArray(stored)) return;
    // The newest last: with a smaller `keepReplies` than before, the oldest go.
    for (const r of stored.slice(-keep)) {
      if (r !== null && typeof r === 'object' && typeof r.key === 'string' && typeof r.message === 'string') this.#byKey.set(r.key, r);
    }
  }

  get(key: string): StoredReply | undefined {
    return this.#byKey.get(key);
  }

  add(reply: StoredReply): void {
    this.#byKey.delete(reply.key);
    this.#byKey.set(reply.key, reply);
    if (this.#byKey.size > this.#keep) this.#byKey.delete(this.#byKey.keys().next().value as string);
    this.changed = true;
  }

  get size(): number {
    return this.#byKey.size;
  }

  /** Every kept reply, oldest first, for the next commit (and `changed` is reset). */
  seal(): StoredReply[] {
    this.changed = false;
    return [...this.#byKey.values()];
  }
}
