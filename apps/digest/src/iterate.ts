import { createHash } from 'node:crypto';

/** SHA-256 of `text`, then of each digest again, `rounds` times in all; hex. */
export function iteratedSha256(text: string, rounds: number): string {
  let digest = createHash('sha256').update(text).digest();
  for (let i = 1; i < rounds; i++) digest = createHash('sha256').update(digest).digest();
  return digest.toString('hex');
}
