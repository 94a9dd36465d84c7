import { dispatch, query, spawn, start, stop } from 'nact';
import { type Contestant, type CounterHandle, type KeyedHandle, keyedState } from '../Contestant.js';

type Msg = { type: 'add'; by: number; sender?: unknown };

/** nact: an actor per counter; `query` (its ask) makes a temporary actor per request. */
export const nact: Contestant = {
  name: 'nact',
  semantics:
    'FIFO per actor; query (ask) has a timeout (5 s here); a pending query is keyed by a 32-bit random id, so at 10k concurrent queries two can collide and one reply is lost (it times out) and makes a temporary actor per request; no validation',
  open() {
    const system = start();
    let games = 0;
    return {
      spawn(id) {
        const actor = spawn(
          system,
          (state: { total: number } = { total: 0 }, msg: Msg) => {
            const total = state.total + msg.by;
            if (msg.sender !== undefined) dispatch(msg.sender as never, total);
            return { total };
          },
          id,
        );
        const handle: CounterHandle = {
          ask: (by) => query(actor, (sender: unknown) => ({ type: 'add', by, sender }), 5_000) as Promise<number>,
          tell: (by) => dispatch(actor, { type: 'add', by }),
        };
        return handle;
      },
      spawnKeyed(id) {
        const actor = spawn(
          system,
          (state: Map<string, number> = keyedState(), msg: { key: string; by: number; sender?: unknown }) => {
            const v = (state.get(msg.key) as number) + msg.by;
            state.set(msg.key, v);
            if (msg.sender !== undefined) dispatch(msg.sender as never, v);
            return state;
          },
          id,
        );
        const handle: KeyedHandle = {
          ask: (key, by) => query(actor, (sender: unknown) => ({ key, by, sender }), 5_000) as Promise<number>,
          tell: (key, by) => dispatch(actor, { key, by }),
        };
        return handle;
      },
      async close() {
        stop(system);
      },
      async pingPong(hops) {
        let done!: (n: number) => void;
        const finished = new Promise<number>((r) => {
          done = r;
        });
        const make = (name: string) =>
          spawn(
            system,
            (state: { peer?: unknown } = {}, msg: { peer?: unknown; n?: number }) => {
              if (msg.peer !== undefined) return { peer: msg.peer };
              const n = msg.n as number;
              if (n === 0) done(hops);
              else dispatch(state.peer as never, { n: n - 1 });
              return state;
            },
            name,
          );
        games++;
        const a = make(`ping-${games}`);
        const b = make(`pong-${games}`);
        dispatch(a, { peer: b });
        dispatch(b, { peer: a });
        dispatch(a, { n: hops });
        return finished;
      },
    };
  },
};
