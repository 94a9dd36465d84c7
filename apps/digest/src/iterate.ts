import { createHash } from 'node:crypto';

/** SHA-256 of `text`, then of each digest again, `rounds` times in all; hex. */
export function iteratedSha256(text: string, rounds: number): string {
  const chain = startChain(text, rounds);
  advance(chain, rounds, () => {});
  return chain.digest.toString('hex');
}

/** An iterated SHA-256 under way: the digest so far and the rounds still to go. */
export interface Chain {
  digest: Buffer;
  left: number;
}

/** The chain after its first round (the digest of `text`). */
export function startChain(text: string, rounds: number): Chain {
  return { digest: createHash('sha256').update(text).digest(), left: rounds - 1 };
}

/** How many rounds run between two calls of `beat`. */
const BEAT_EVERY = 10_000;

/**
 * Run up to `rounds` more rounds of `chain`; `beat` is called every {@link BEAT_EVERY} rounds (a
 * worker-hosted handler passes `ctx.heartbeat`: a shared-memory write, so a long synchronous
 * loop proves it is alive without yielding). Returns true when the chain is done.
 */
export function advance(chain: Chain, rounds: number, beat: () => void): boolean {
  let n = Math.min(rounds, chain.left);
  let digest = chain.digest;
  chain.left -= n;
  while (n > 0) {
    const burst = Math.min(n, BEAT_EVERY);
    for (let i = 0; i < burst; i++) digest = createHash('sha256').update(digest).digest();
    n -= burst;
    beat();
  }
  chain.digest = digest;
  return chain.left === 0;
}
