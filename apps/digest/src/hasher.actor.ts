// Runs on a worker thread: the main thread only knows the protocol (see service.ts).
import { defineActor } from '@holdfast/core';
import { iteratedSha256 } from './iterate.js';
import { HasherProtocol } from './protocol.js';

/** How many recent results a hasher keeps. */
const CACHE = 256;

export default defineActor(HasherProtocol, {
  init: () => ({ served: 0, cache: new Map<string, string>() }),
  handlers: {
    digest(state, { text, rounds }) {
      state.served++;
      const key = `${rounds}:${text}`;
      const hit = state.cache.get(key);
      if (hit !== undefined) return { hex: hit, rounds, cached: true, served: state.served };
      const hex = iteratedSha256(text, rounds);
      state.cache.set(key, hex);
      if (state.cache.size > CACHE) state.cache.delete(state.cache.keys().next().value as string);
      return { hex, rounds, cached: false, served: state.served };
    },
    stats: (state) => ({ served: state.served, cached: state.cache.size }),
    stall() {
      for (;;) {}
    },
  },
  inspect: (state) => ({ served: state.served, cached: state.cache.size }),
});
