// The workload of the worker-host measurements: an echo (for round trips) and a CPU-bound job.
// The same module is the in-thread actor and, loaded on a worker thread, the worker-hosted one.
import { defineActor, defineProtocol } from '@holdfast/core';
import { z } from 'zod';

export const CruncherProtocol = defineProtocol('cruncher', {
  echo: { input: z.object({ n: z.number() }), reply: z.number() },
  /** Count the primes below `below` by trial division: pure CPU, no allocation. */
  crunch: { input: z.object({ below: z.number().int().positive() }), reply: z.number() },
  crash: { input: z.object({}), reply: z.number() },
  spin: { input: z.object({}), reply: z.number() },
});

export function countPrimes(below: number): number {
  let count = 0;
  for (let n = 2; n < below; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

export default defineActor(CruncherProtocol, {
  init: () => ({ jobs: 0 }),
  handlers: {
    echo: (_s, { n }) => n,
    crunch(s, { below }) {
      s.jobs++;
      return countPrimes(below);
    },
    crash() {
      throw new Error('crash requested');
    },
    spin() {
      for (;;) {}
    },
  },
});
