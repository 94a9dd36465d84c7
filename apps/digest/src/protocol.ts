import { defineProtocol } from '@holdfast/core';
import { z } from 'zod';

/** The most rounds one job may ask for. */
export const MAX_ROUNDS = 2_000_000;

/** What a hasher answers: the digest, and how many requests that hasher has served. */
export const Digest = z.object({ hex: z.string().length(64), rounds: z.number().int(), cached: z.boolean(), served: z.number().int() });

/**
 * A hasher: computes iterated SHA-256 (`rounds` times over its own output), which is CPU-bound,
 * and keeps the most recent results. Only this protocol is needed on the main thread; the
 * behaviour lives in `hasher.actor.ts`, which the worker thread imports.
 *
 * A job longer than one slice runs a slice per turn, taking turns with the hasher's other jobs
 * and messages, so a small job is never stuck behind a big one. A hasher holds a bounded number
 * of jobs; past it, `digest` is refused with `BUSY`.
 */
export const HasherProtocol = defineProtocol('hasher', {
  digest: { input: z.object({ text: z.string().max(1 << 20), rounds: z.number().int().min(1).max(MAX_ROUNDS) }), reply: Digest },
  /** Run the next slice of the oldest job (the hasher tells itself). */
  slice: { input: z.object({}) },
  stats: { input: z.object({}), reply: z.object({ served: z.number().int(), cached: z.number().int(), jobs: z.number().int() }) },
  /** Loop for ever (a demonstration of a stuck thread being found and replaced). */
  stall: { input: z.object({}), reply: z.null() },
});

/** Settings of a hasher. */
export interface HasherArgs {
  /** Rounds run per turn; a longer job takes several turns. */
  readonly sliceRounds: number;
  /** Jobs held at once (being sliced); more are refused with `BUSY`. */
  readonly maxJobs: number;
}
