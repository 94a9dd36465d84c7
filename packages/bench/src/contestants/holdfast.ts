import { type ActorRef, type ActorSystem, createSystem, defineActor, defineProtocol } from '@holdfast/core';
import { z } from 'zod';
import { type Contestant, type CounterHandle, type KeyedHandle, keyedState } from '../Contestant.js';

const CounterProtocol = defineProtocol('counter', {
  add: { input: z.object({ by: z.number().int() }), reply: z.number() },
});

const Counter = defineActor(CounterProtocol, {
  init: () => ({ total: 0 }),
  handlers: {
    add(state, { by }) {
      state.total += by;
      return state.total;
    },
  },
});

const KeyedProtocol = defineProtocol('keyed', {
  add: { input: z.object({ key: z.string(), by: z.number().int() }), reply: z.number() },
});

/** Realistic state: a map of 16 counters keyed by strings. */
const Keyed = defineActor(KeyedProtocol, {
  init: () => keyedState(),
  handlers: {
    add(map, { key, by }) {
      const v = (map.get(key) ?? 0) + by;
      map.set(key, v);
      return v;
    },
  },
});

class KeyedRef implements KeyedHandle {
  constructor(readonly ref: ActorRef<typeof KeyedProtocol>) {}
  ask(key: string, by: number): Promise<number> {
    return this.ref.ask('add', { key, by });
  }
  tell(key: string, by: number): void {
    this.ref.tell('add', { key, by });
  }
}

const BallProtocol = defineProtocol('ball', { ball: { input: z.object({ n: z.number().int() }) } });

/** One side of ping-pong: passes the ball to its peer until it reaches zero. */
const Player = defineActor(BallProtocol, {
  init: (a: { system: ActorSystem; peer: string; done: () => void }) => ({ ...a, ref: null as ActorRef<typeof BallProtocol> | null }),
  handlers: {
    ball(s, { n }) {
      if (n === 0) return s.done();
      s.ref ??= s.system.lookup(BallProtocol, s.peer) as ActorRef<typeof BallProtocol>;
      s.ref.tell('ball', { n: n - 1 });
    },
  },
});

/** A ref behind the harness's handle interface: one small object per actor, like the floor's. */
class Handle implements CounterHandle {
  constructor(readonly ref: ActorRef<typeof CounterProtocol>) {}
  ask(by: number): Promise<number> {
    return this.ref.ask('add', { by });
  }
  tell(by: number): void {
    this.ref.tell('add', { by });
  }
}

function holdfast(validate: boolean): Contestant {
  return {
    name: `holdfast (validation ${validate ? 'on' : 'off'})`,
    semantics: `FIFO per sender; every ask has a 5 s deadline; crash = restart; ${validate ? 'input and reply checked by zod' : 'no schema checks'}`,
    million: !validate,
    open() {
      let games = 0;
      const system = createSystem({ name: 'bench', validate: { input: validate, reply: validate }, mailbox: { capacity: 2_000_000 } });
      return {
        spawn: (id) => new Handle(system.spawn(Counter, { id })),
        spawnKeyed: (id) => new KeyedRef(system.spawn(Keyed, { id })),
        async close() {
          await system.shutdown();
        },
        pingPong(hops) {
          return new Promise<number>((resolve) => {
            const game = ++games;
            const done = () => resolve(hops);
            const ping = system.spawn(Player, { id: `ping-${game}`, args: { system, peer: `pong-${game}`, done } });
            system.spawn(Player, { id: `pong-${game}`, args: { system, peer: `ping-${game}`, done } });
            ping.tell('ball', { n: hops });
          });
        },
      };
    },
  };
}

export const holdfastValidated = holdfast(true);
export const holdfastUnvalidated = holdfast(false);
