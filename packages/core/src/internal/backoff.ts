import type { BackoffOptions } from '../options.js';
import { DEFAULTS } from '../options.js';

/**
 * The delay before the `n`-th restart (n ≥ 1) of a child within its steward's window:
 * `min(maxMs, minMs × factor^(n−1)) × (1 + jitter × (2u − 1))`, with `u = random()` in [0, 1).
 *
 * @example
 * backoffDelay({ minMs: 100, maxMs: 1_000, jitter: 0 }, 3, Math.random); // 400
 */
export function backoffDelay(options: BackoffOptions, n: number, random: () => number): number {
  const factor = options.factor ?? DEFAULTS.backoffFactor;
  const jitter = options.jitter ?? DEFAULTS.backoffJitter;
  const base = Math.min(options.maxMs, options.minMs * factor ** Math.max(0, n - 1));
  const spread = jitter === 0 ? 1 : 1 + jitter * (2 * random() - 1);
  return Math.max(0, Math.round(base * spread));
}
