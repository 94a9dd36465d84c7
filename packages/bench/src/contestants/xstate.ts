import { assign, createActor, setup } from 'xstate';
import { type Contestant, keyedState } from '../Contestant.js';

type AddEvent = { type: 'add'; by: number; reply?: (total: number) => void };

const counter = setup({ types: { context: {} as { total: number }, events: {} as AddEvent } }).createMachine({
  context: { total: 0 },
  on: {
    add: {
      actions: [assign({ total: ({ context, event }) => context.total + event.by }), ({ context, event }) => event.reply?.(context.total)],
    },
  },
});

type KeyedEvent = { type: 'add'; key: string; by: number; reply?: (v: number) => void };

const keyed = setup({ types: { context: {} as { map: Map<string, number> }, events: {} as KeyedEvent } }).createMachine({
  context: () => ({ map: keyedState() }),
  on: {
    add: {
      actions: ({ context, event }) => {
        const v = (context.map.get(event.key) as number) + event.by;
        context.map.set(event.key, v);
        event.reply?.(v);
      },
    },
  },
});

type PingEvent = { type: 'ball'; n: number } | { type: 'peer'; peer: { send(e: PingEvent): void } };

/** xstate v5: an actor (a state machine) per counter. `send` runs the transition synchronously. */
export const xstate: Contestant = {
  name: 'xstate v5',
  semantics:
    'events processed synchronously in the sender’s call (queued only when re-entrant); no ask: the reply is a callback in the event; no timeouts, no validation',
  open() {
    const actors: Array<{ stop(): void }> = [];
    return {
      spawn() {
        const actor = createActor(counter).start();
        actors.push(actor);
        return {
          ask: (by) => new Promise<number>((reply) => actor.send({ type: 'add', by, reply })),
          tell: (by) => actor.send({ type: 'add', by }),
        };
      },
      spawnKeyed() {
        const actor = createActor(keyed).start();
        actors.push(actor);
        return {
          ask: (key, by) => new Promise<number>((reply) => actor.send({ type: 'add', key, by, reply })),
          tell: (key, by) => actor.send({ type: 'add', key, by }),
        };
      },
      async close() {
        for (const a of actors) a.stop();
      },
      pingPong(hops) {
        return new Promise<number>((resolve) => {
          const player = setup({ types: { context: {} as { peer: { send(e: PingEvent): void } | null }, events: {} as PingEvent } }).createMachine({
            context: { peer: null },
            on: {
              peer: { actions: assign({ peer: ({ event }) => (event as { peer: { send(e: PingEvent): void } }).peer }) },
              ball: {
                actions: ({ context, event }) => {
                  const n = (event as { n: number }).n;
                  // Defer the send so that the ball crosses actors as a message, not as a nested call.
                  if (n === 0) resolve(hops);
                  else queueMicrotask(() => context.peer?.send({ type: 'ball', n: n - 1 }));
                },
              },
            },
          });
          const a = createActor(player).start();
          const b = createActor(player).start();
          actors.push(a, b);
          a.send({ type: 'peer', peer: b });
          b.send({ type: 'peer', peer: a });
          a.send({ type: 'ball', n: hops });
        });
      },
    };
  },
};
