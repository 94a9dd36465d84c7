/** Rendezvous rank of `shard` for `node`: each shard prefers a few nodes, so free shards are not fought over. */
export function rank(node: string, shard: number): number {
  let h = 0x811c9dc5;
  const s = `${node}#${shard}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
