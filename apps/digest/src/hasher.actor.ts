// Runs on a worker thread: the main thread only knows the protocol (see service.ts).
import { type DeferredReply, defineActor, reject } from '@holdfast/core';
import { advance, type Chain, startChain } from './iterate.js';
import { type HasherArgs, HasherProtocol } from './protocol.js';

/** How many recent results a hasher keeps. */
const CACHE = 256;

interface Job {
  readonly key: string;
  readonly rounds: number;
  readonly chain: Chain;
  readonly reply: DeferredReply<{ hex: string; rounds: number; cached: boolean; served: number }>;
}

interface HasherState {
  readonly args: HasherArgs;
  served: number;
  readonly cache: Map<string, string>;
  /** Jobs longer than a slice, in the order they take turns. */
  readonly jobs: Job[];
}

function remember(state: HasherState, key: string, hex: string): void {
  state.cache.set(key, hex);
  if (state.cache.size > CACHE) state.cache.delete(state.cache.keys().next().value as string);
}

export default defineActor(HasherProtocol, {
  init: (args: HasherArgs): HasherState => ({ args, served: 0, cache: new Map(), jobs: [] }),
  handlers: {
    digest(state, { text, rounds }, ctx) {
      const key = `${rounds}:${text}`;
      const hit = state.cache.get(key);
      if (hit !== undefined) return { hex: hit, rounds, cached: true, served: ++state.served };
      const chain = startChain(text, rounds);
      // A small job is done in this turn (beating as it goes); a big one joins the jobs and
      // takes turns, one slice each.
      if (advance(chain, state.args.sliceRounds, () => ctx.heartbeat())) {
        const hex = chain.digest.toString('hex');
        remember(state, key, hex);
        return { hex, rounds, cached: false, served: ++state.served };
      }
      if (state.jobs.length >= state.args.maxJobs) reject('BUSY', { jobs: state.jobs.length, maxJobs: state.args.maxJobs });
      const reply = ctx.defer();
      state.jobs.push({ key, rounds, chain, reply });
      if (state.jobs.length === 1) ctx.self.tell('slice', {});
      return reply;
    },
    slice(state, _input, ctx) {
      const job = state.jobs.shift();
      if (job === undefined) return;
      if (advance(job.chain, state.args.sliceRounds, () => ctx.heartbeat())) {
        const hex = job.chain.digest.toString('hex');
        remember(state, job.key, hex);
        job.reply.send({ hex, rounds: job.rounds, cached: false, served: ++state.served });
      } else {
        state.jobs.push(job);
      }
      // One slice message in the mailbox at a time: other messages queue behind it, not behind all the jobs.
      if (state.jobs.length > 0) ctx.self.tell('slice', {});
    },
    stats: (state) => ({ served: state.served, cached: state.cache.size, jobs: state.jobs.length }),
    stall() {
      for (;;) {}
    },
  },
  inspect: (state) => ({ served: state.served, cached: state.cache.size, jobs: state.jobs.map((j) => ({ rounds: j.rounds, left: j.chain.left })) }),
});
