import { type Contestant, type CounterHandle, type KeyedHandle, keyedState } from '../Contestant.js';

/**
 * The floor: the smallest honest owner loop — a flat ring-buffer mailbox per actor, one shared
 * dispatcher draining the ready actors from a microtask, the reply a resolve function carried in
 * the message, and the user's handler called as a function (as every framework must). No
 * deadlines, no validation, no supervision: what any actor framework costs at least.
 */
interface Msg {
  input: { by: number; key?: string };
  resolve: ((v: number) => void) | null;
}

type Handler = (state: { total: number }, input: { by: number; key?: string }) => number;
const add: Handler = (state, { by }) => {
  state.total += by;
  return state.total;
};

/** The keyed shape: the state is a map of 16 counters. */
const addKeyed = (state: { map: Map<string, number> }, { key, by }: { key?: string; by: number }): number => {
  const v = (state.map.get(key as string) as number) + by;
  state.map.set(key as string, v);
  return v;
};

class FloorActor {
  state: { total: number; map: Map<string, number> } = { total: 0, map: new Map() };
  handler: Handler = add;
  scheduled = false;
  buf: Array<Msg | undefined> = [];
  head = 0;
  size = 0;
  constructor(readonly d: FloorDispatcher) {}

  push(m: Msg): void {
    if (this.size === this.buf.length) {
      const old = this.buf;
      const next: Array<Msg | undefined> = new Array(old.length === 0 ? 4 : old.length * 2);
      for (let i = 0; i < this.size; i++) next[i] = old[(this.head + i) & (old.length - 1)];
      this.buf = next;
      this.head = 0;
    }
    this.buf[(this.head + this.size) & (this.buf.length - 1)] = m;
    this.size++;
    if (!this.scheduled) this.d.schedule(this);
  }

  run(): void {
    while (this.size > 0) {
      const m = this.buf[this.head] as Msg;
      this.buf[this.head] = undefined;
      this.head = (this.head + 1) & (this.buf.length - 1);
      this.size--;
      const reply = this.handler(this.state, m.input);
      if (m.resolve !== null) m.resolve(reply);
    }
  }

  // The floor's own API takes an input object, as every framework's does.
  ask(input: { by: number; key?: string }): Promise<number> {
    return new Promise<number>((resolve) => this.push({ input, resolve }));
  }

  tell(input: { by: number; key?: string }): void {
    this.push({ input, resolve: null });
  }
}

class FloorKeyedHandle implements KeyedHandle {
  constructor(readonly actor: FloorActor) {}
  ask(key: string, by: number): Promise<number> {
    return this.actor.ask({ key, by });
  }
  tell(key: string, by: number): void {
    this.actor.tell({ key, by });
  }
}

/** The harness's adapter, the same shape as every other contestant's. */
class FloorHandle implements CounterHandle {
  constructor(readonly actor: FloorActor) {}
  ask(by: number): Promise<number> {
    return this.actor.ask({ by });
  }
  tell(by: number): void {
    this.actor.tell({ by });
  }
}

const resolved = Promise.resolve();

class FloorDispatcher {
  ready: FloorActor[] = [];
  pending = false;
  schedule(a: FloorActor): void {
    a.scheduled = true;
    this.ready.push(a);
    if (!this.pending) {
      this.pending = true;
      void resolved.then(this.drain);
    }
  }
  drain = (): void => {
    for (let i = 0; i < this.ready.length; i++) {
      const a = this.ready[i] as FloorActor;
      a.scheduled = false;
      a.run();
    }
    this.ready.length = 0;
    this.pending = false;
  };
}

export const floor: Contestant = {
  name: 'floor (hand-written owner loop)',
  semantics: 'FIFO; the handler is a function call; no timeouts, no validation, no supervision',
  million: true,
  open() {
    const d = new FloorDispatcher();
    return {
      spawn: () => new FloorHandle(new FloorActor(d)),
      spawnKeyed: () => {
        const a = new FloorActor(d);
        a.state.map = keyedState();
        a.handler = addKeyed as unknown as Handler;
        return new FloorKeyedHandle(a);
      },
      close: async () => {},
      pingPong: (hops) =>
        new Promise<number>((resolve) => {
          const a = new FloorActor(d);
          const b = new FloorActor(d);
          const bounce =
            (peer: FloorActor): Handler =>
            (_state, { by }) => {
              if (by === 0) resolve(hops);
              else peer.tell({ by: by - 1 });
              return 0;
            };
          a.handler = bounce(b);
          b.handler = bounce(a);
          a.tell({ by: hops });
        }),
    };
  },
};
