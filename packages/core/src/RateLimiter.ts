import { z } from 'zod';
import { type DeferredReply, defineActor } from './defineActor.js';
import { defineProtocol } from './defineProtocol.js';
import { InvalidArgument, reject } from './errors.js';

/** One token bucket: at most `capacity` tokens, `refill` of them added back every `perMs`. */
export interface RateLimit {
  /** The bucket's size: the largest burst. */
  readonly capacity: number;
  /** The refill period in ms. */
  readonly perMs: number;
  /** Tokens added back per period (default `capacity`: "capacity per perMs"). */
  readonly refill?: number;
}

/** Arguments of the {@link RateLimiter} actor. */
export interface RateLimiterArgs {
  /** Every limit must have the tokens for a take to be granted (for example 10 per second and 100 per minute). */
  readonly limits: readonly RateLimit[];
  /** The clock in ms (default `Date.now`); pass the system's clock in tests. */
  readonly now?: () => number;
}

const Cost = z.object({ cost: z.number().int().positive().default(1) });

/** The protocol of {@link RateLimiter}. */
export const RateLimiterProtocol = defineProtocol('rate-limiter', {
  /** Take `cost` tokens from every limit now, or none: granted, or refused with how long until it would be. */
  take: { input: Cost, reply: z.object({ granted: z.boolean(), retryAfterMs: z.number(), remaining: z.array(z.number()) }) },
  /** Wait until `cost` tokens can be taken (first come, first served), then take them. Bounded by the ask's deadline. */
  acquire: { input: Cost, reply: z.object({ waitedMs: z.number() }) },
  /** The tokens in each bucket now. */
  tokens: { input: z.object({}), reply: z.array(z.number()) },
  /** Serve waiting `acquire`s whose tokens are there (scheduled by the limiter itself). */
  drain: { input: z.object({}) },
});

interface Bucket {
  readonly capacity: number;
  /** Tokens per ms. */
  readonly rate: number;
  tokens: number;
}

interface Waiter {
  readonly cost: number;
  readonly since: number;
  readonly reply: DeferredReply<{ waitedMs: number }>;
}

interface LimiterState {
  readonly buckets: Bucket[];
  readonly now: () => number;
  last: number;
  readonly waiting: Waiter[];
  drainScheduled: boolean;
}

function refill(s: LimiterState): void {
  const now = s.now();
  const dt = now - s.last;
  s.last = now;
  if (dt <= 0) return;
  for (const b of s.buckets) b.tokens = Math.min(b.capacity, b.tokens + dt * b.rate);
}

/** How long until every bucket holds `cost` tokens (0: now). */
function waitFor(s: LimiterState, cost: number): number {
  let ms = 0;
  for (const b of s.buckets) if (b.tokens < cost) ms = Math.max(ms, (cost - b.tokens) / b.rate);
  return Math.ceil(ms);
}

function takeNow(s: LimiterState, cost: number): void {
  for (const b of s.buckets) b.tokens -= cost;
}

function checkCost(s: LimiterState, cost: number): void {
  const smallest = Math.min(...s.buckets.map((b) => b.capacity));
  if (cost > smallest) reject('COST_TOO_HIGH', { cost, capacity: smallest });
}

/**
 * A token-bucket rate limiter as an actor: one owner for the buckets, so concurrent callers never
 * race on them. With several limits (say 10 per second and 100 per minute), a take is granted only
 * when every bucket has the tokens, and then takes from all of them. `take` answers at once;
 * `acquire` waits its turn (FIFO), within the ask's deadline. A cost above the smallest bucket is
 * refused with `REJECTED` (`COST_TOO_HIGH`).
 *
 * @example
 * ```ts
 * const limiter = system.spawn(RateLimiter, { id: 'api-limit', args: { limits: [{ capacity: 10, perMs: 1_000 }, { capacity: 100, perMs: 60_000 }] } });
 * const { granted, retryAfterMs } = await limiter.ask('take', {});
 * await limiter.ask('acquire', { cost: 2 }, { timeoutMs: 5_000 }); // waits for the tokens
 * ```
 */
export const RateLimiter = defineActor(RateLimiterProtocol, {
  name: 'rate-limiter',
  init(args: RateLimiterArgs): LimiterState {
    if (!Array.isArray(args?.limits) || args.limits.length === 0) throw new InvalidArgument('RateLimiter: args.limits must have at least one limit');
    for (const l of args.limits) {
      if (!(l.capacity > 0) || !(l.perMs > 0) || (l.refill !== undefined && !(l.refill > 0)))
        throw new InvalidArgument(`RateLimiter: capacity, perMs and refill must be positive, got ${JSON.stringify(l)}`);
    }
    const now = args.now ?? Date.now;
    return {
      buckets: args.limits.map((l) => ({ capacity: l.capacity, rate: (l.refill ?? l.capacity) / l.perMs, tokens: l.capacity })),
      now,
      last: now(),
      waiting: [],
      drainScheduled: false,
    };
  },
  handlers: {
    take(s, { cost }) {
      checkCost(s, cost);
      refill(s);
      // Waiting acquires come first: a take does not jump the queue.
      const wait = s.waiting.length > 0 ? Math.max(1, waitFor(s, cost)) : waitFor(s, cost);
      if (wait > 0) return { granted: false, retryAfterMs: wait, remaining: s.buckets.map((b) => Math.floor(b.tokens)) };
      takeNow(s, cost);
      return { granted: true, retryAfterMs: 0, remaining: s.buckets.map((b) => Math.floor(b.tokens)) };
    },
    acquire(s, { cost }, ctx) {
      checkCost(s, cost);
      refill(s);
      if (s.waiting.length === 0 && waitFor(s, cost) === 0) {
        takeNow(s, cost);
        return { waitedMs: 0 };
      }
      const reply = ctx.defer();
      s.waiting.push({ cost, since: s.now(), reply });
      if (!s.drainScheduled) {
        s.drainScheduled = true;
        ctx.schedule('drain', {}, { afterMs: waitFor(s, (s.waiting[0] as Waiter).cost) });
      }
      return reply;
    },
    tokens(s) {
      refill(s);
      return s.buckets.map((b) => b.tokens);
    },
    drain(s, _input, ctx) {
      s.drainScheduled = false;
      refill(s);
      while (s.waiting.length > 0) {
        const head = s.waiting[0] as Waiter;
        // Gone (timed out or cancelled): its tokens stay.
        if (head.reply.settled) {
          s.waiting.shift();
          continue;
        }
        if (waitFor(s, head.cost) > 0) break;
        s.waiting.shift();
        takeNow(s, head.cost);
        head.reply.send({ waitedMs: s.now() - head.since });
      }
      const next = s.waiting[0];
      if (next !== undefined) {
        s.drainScheduled = true;
        ctx.schedule('drain', {}, { afterMs: Math.max(1, waitFor(s, next.cost)) });
      }
    },
  },
  inspect: (s) => ({ tokens: s.buckets.map((b) => Math.floor(b.tokens)), waiting: s.waiting.length }),
});
