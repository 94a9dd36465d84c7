// Request-reply on the node's connection, done by hand: one wildcard subscription takes the
// replies of every request (`<inbox>.<token>`), and a Map finds each one's waiter. It is what the
// NATS client's own `request()` does, without the Error it makes for every request, answered or
// not (its stack captured each time): measured, that and its promise plumbing were a fifth of a
// remote ask's CPU on the asking node. Each request remembers the node it was sent to, so that
// the requests to a node found dead can be failed at once.
import { createInbox, type Msg, type NatsConnection } from '@nats-io/transport-node';

/** Nobody subscribes to the subject (the server answered 503 to the reply inbox). */
export class NoResponders extends Error {
  constructor(readonly subject: string) {
    super(`no responders on ${subject}`);
  }
}

/** No reply within the request's time. */
export class RequestTimedOut extends Error {
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply on ${subject} within ${timeoutMs} ms`);
  }
}

class Pending {
  constructor(
    readonly subject: string,
    /** The node it was sent to, or null. */
    readonly owner: string | null,
    readonly resolve: (data: Uint8Array) => void,
    readonly reject: (error: Error) => void,
  ) {}
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
}

export class Requests {
  readonly #nc: NatsConnection;
  readonly #prefix: string;
  readonly #pending = new Map<string, Pending>();
  #seq = 0;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
    this.#prefix = `${createInbox()}.`;
    nc.subscribe(`${this.#prefix}*`, {
      callback: (err, m) => {
        if (err === null) this.#reply(m);
      },
    });
  }

  /** Publish `data` to `subject`; settle with the reply's data, `NoResponders`, `RequestTimedOut`, or what `fail` says. */
  request(subject: string, data: Uint8Array, timeoutMs: number, owner: string | null): { token: string; reply: Promise<Uint8Array> } {
    const token = String(++this.#seq);
    const reply = new Promise<Uint8Array>((resolve, reject) => {
      const p = new Pending(subject, owner, resolve, reject);
      p.timer = setTimeout(() => this.fail(token, new RequestTimedOut(subject, timeoutMs)), timeoutMs);
      this.#pending.set(token, p);
    });
    try {
      this.#nc.publish(subject, data, { reply: this.#prefix + token });
    } catch (e) {
      this.fail(token, e instanceof Error ? e : new Error(String(e)));
    }
    return { token, reply };
  }

  /** Settle request `token` with `error`, if it is still waiting. */
  fail(token: string, error: Error): void {
    const p = this.#pending.get(token);
    if (p === undefined) return;
    this.#pending.delete(token);
    clearTimeout(p.timer);
    p.reject(error);
  }

  /** Fail every request sent to `node` (it died: they will never be answered). */
  failOwner(node: string, error: (p: { subject: string }) => Error): void {
    for (const [token, p] of this.#pending) if (p.owner === node) this.fail(token, error(p));
  }

  /** Whether a request to `node` waits for its reply. */
  waitsOn(node: string): boolean {
    for (const p of this.#pending.values()) if (p.owner === node) return true;
    return false;
  }

  /** The nodes that owe replies. */
  owners(): Set<string> {
    const out = new Set<string>();
    for (const p of this.#pending.values()) if (p.owner !== null) out.add(p.owner);
    return out;
  }

  /** Fail everything still waiting (the connection is closing). */
  close(error: Error): void {
    for (const token of [...this.#pending.keys()]) this.fail(token, error);
  }

  #reply(m: Msg): void {
    const token = m.subject.slice(this.#prefix.length);
    const p = this.#pending.get(token);
    if (p === undefined) return; // timed out or failed already: a late reply
    this.#pending.delete(token);
    clearTimeout(p.timer);
    if (m.data.length === 0 && m.headers?.code === 503) p.reject(new NoResponders(p.subject));
    else p.resolve(m.data);
  }
}
