import { Mutex } from 'async-mutex';
import type { Contestant } from '../Contestant.js';

/** No actors: one Map of counters behind one async-mutex, the shared-memory-and-lock way. */
export const mutexMap: Contestant = {
  name: 'Map + async-mutex',
  semantics: 'one shared Map, every read-modify-write under one lock (runExclusive); FIFO lock queue; no timeouts, no validation, no isolation',
  open() {
    const mutex = new Mutex();
    const map = new Map<string, number>();
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
      async close() {
        map.clear();
      },
    };
  },
};
