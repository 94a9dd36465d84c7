import { createRequire } from 'node:module';
import { type Contestant, keyedState } from '../Contestant.js';

const require = createRequire(import.meta.url);
const actors = require('comedy') as (options: object) => {
  rootActor(): Promise<{ createChild(def: unknown, options: object): Promise<ComedyActor> }>;
  destroy(): Promise<void>;
};
interface ComedyActor {
  sendAndReceive(topic: string, ...args: unknown[]): Promise<unknown>;
  send(topic: string, ...args: unknown[]): Promise<void>;
}

class Counter {
  total = 0;
  add(by: number): number {
    this.total += by;
    return this.total;
  }
}

class KeyedCounter {
  map = keyedState();
  add(key: string, by: number): number {
    const v = (this.map.get(key) as number) + by;
    this.map.set(key, v);
    return v;
  }
}

/** Where a finished ping-pong game reports (comedy actors are made from classes, not closures). */
const finished = new Map<number, () => void>();

class Player {
  peer: ComedyActor | null = null;
  game = 0;
  setPeer(peer: ComedyActor, game: number): void {
    this.peer = peer;
    this.game = game;
  }
  ball(n: number): void {
    if (n === 0) finished.get(this.game)?.();
    else void this.peer?.send('ball', n - 1);
  }
}

/** comedy: actors as class instances, in-memory mode; spawning is asynchronous. */
export const comedy: Contestant = {
  name: 'comedy',
  semantics:
    'FIFO per actor; sendAndReceive (ask) has no timeout by default; send resolves on delivery; no validation; spawn is async, and slower the more children a parent has (the footprint is measured on 10k actors)',
  maxActors: 10_000,
  async open() {
    const system = actors({ log: { level: 0 }, test: true });
    const root = await system.rootActor();
    return {
      async spawnAsync() {
        const actor = await root.createChild(Counter, { mode: 'in-memory' });
        return {
          ask: (by: number) => actor.sendAndReceive('add', by) as Promise<number>,
          tell: (by: number) => void actor.send('add', by),
        };
      },
      spawn() {
        throw new Error('comedy spawns asynchronously: use spawnAsync');
      },
      async spawnKeyed() {
        const actor = await root.createChild(KeyedCounter, { mode: 'in-memory' });
        return {
          ask: (key: string, by: number) => actor.sendAndReceive('add', key, by) as Promise<number>,
          tell: (key: string, by: number) => void actor.send('add', key, by),
        };
      },
      close: () => system.destroy(),
      async pingPong(hops) {
        const game = finished.size + 1;
        const a = await root.createChild(Player, { mode: 'in-memory' });
        const b = await root.createChild(Player, { mode: 'in-memory' });
        await a.sendAndReceive('setPeer', b, game);
        await b.sendAndReceive('setPeer', a, game);
        const done = new Promise<number>((resolve) => finished.set(game, () => resolve(hops)));
        void a.send('ball', hops);
        return done;
      },
    };
  },
};
