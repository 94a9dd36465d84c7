import { defineProtocol } from '@holdfast/core';
import { z } from 'zod';

/** What a hasher answers: the digest, and how many requests that hasher has served. */
export const Digest = z.object({ hex: z.string().length(64), rounds: z.number().int(), cached: z.boolean(), served: z.number().int() });

/**
 * A hasher: computes iterated SHA-256 (`rounds` times over its own output), which is CPU-bound,
 * and keeps the most recent results. Only this protocol is needed on the main thread; the
 * behaviour lives in `hasher.actor.ts`, which the worker thread imports.
 */
export const HasherProtocol = defineProtocol('hasher', {
  digest: { input: z.object({ text: z.string().max(1 << 20), rounds: z.number().int().min(1).max(5_000_000) }), reply: Digest },
  stats: { input: z.object({}), reply: z.object({ served: z.number().int(), cached: z.number().int() }) },
  /** Loop for ever (a demonstration of a stuck thread being found and replaced). */
  stall: { input: z.object({}), reply: z.null() },
});
