import { type ActorRef, createSystem, defineActor, defineProtocol } from '@holdfast/core';
import { z } from 'zod';
import type { Contestant, CounterHandle } from '../Contestant.js';

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
    open() {
      const system = createSystem({ name: 'bench', validate: { input: validate, reply: validate }, mailbox: { capacity: 1_000_000 } });
      return {
        spawn: (id) => new Handle(system.spawn(Counter, { id })),
        async close() {
          await system.shutdown();
        },
      };
    },
  };
}

export const holdfastValidated = holdfast(true);
export const holdfastUnvalidated = holdfast(false);
