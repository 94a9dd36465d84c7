import { Mutex } from 'async-mutex';
import { type Contestant, keyedState } from '../Contestant.js';

/** No actors: one Map of counters behind one async-mutex, the shared-memory-and-lock way. */
export const mutexMap: Contestant = {
  name: 'Map + async-mutex',
  semantics: 'one shared Map, every read-modify-write under one lock (runExclusive); FIFO lock queue; no timeouts, no validation, no isolation',
  open() {
    const mutex = new Mutex();
    const map = new Map<string, number>();
    const maps = new Map<string, Map<string, number>>();
    return {
      spawn(id) {
        map.set(id, 0);
        const add = (by: number) => {
          const v = (map.get(id) as number) + by;
          map.set(id, v);
          return v;
        };
        return {
          ask: (by) => mutex.runExclusive(() => add(by)),
          tell: (by) => void mutex.runExclusive(() => add(by)),
        };
      },
      spawnKeyed(id) {
        // One shared Map of maps, every read-modify-write under the one lock.
        const own = keyedState();
        maps.set(id, own);
        const add = (key: string, by: number) => {
          const v = (own.get(key) as number) + by;
          own.set(key, v);
          return v;
        };
        return {
          ask: (key, by) => mutex.runExclusive(() => add(key, by)),
          tell: (key, by) => void mutex.runExclusive(() => add(key, by)),
        };
      },
      async close() {
        map.clear();
        maps.clear();
      },
    };
  },
};
