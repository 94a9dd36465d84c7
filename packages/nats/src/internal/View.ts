// This node's view of the cluster's bucket: who holds each shard's lease (node, epoch, the key's
// revision) and which nodes announced themselves, kept current by a KV watcher. A watcher does
// not see a key expire (the bucket's TTL removes it silently), so an entry not renewed for
// longer than the TTL is checked with a read and dropped when the key is gone.
import type { KV, KvEntry } from '@nats-io/kv';

export interface Lease {
  readonly shard: number;
  readonly node: string;
  /** The lease's number: the revision at which it was created, handed to the store. */
  readonly epoch: number;
  /** The key's revision now (it moves with every renewal). */
  readonly revision: number;
  /** When this node last saw it written (Date.now()). */
  readonly seenAt: number;
}

export interface NodeEntry {
  readonly node: string;
  readonly revision: number;
  readonly seenAt: number;
}

export const shardKey = (shard: number) => `shard.${shard}`;
export const nodeKey = (node: string) => `node.${node}`;

export class View {
  readonly leases = new Map<number, Lease>();
  readonly nodes = new Map<string, NodeEntry>();
  readonly #shards: number;
  /** Told when an entry changes (a lease taken, moved or gone; a node come or gone). */
  onChange: (() => void) | null = null;
  /** Told when a node's name leaves the bucket (it left, or was declared dead by some node). */
  onNodeGone: ((node: string) => void) | null = null;

  constructor(shards: number) {
    this.#shards = shards;
  }

  /** Apply one entry from the watcher (or a read). */
  apply(e: KvEntry): void {
    const now = Date.now();
    const gone = e.operation !== 'PUT';
    if (e.key.startsWith('shard.')) {
      const shard = Number(e.key.slice(6));
      if (!Number.isInteger(shard) || shard < 0 || shard >= this.#shards) return;
      const before = this.leases.get(shard);
      if (before !== undefined && e.revision < before.revision) return;
      if (gone) {
        if (before !== undefined) {
          this.leases.delete(shard);
          this.onChange?.();
        }
        return;
      }
      const value = parse(e);
      if (value === null || typeof value.node !== 'string' || typeof value.epoch !== 'number') return;
      this.leases.set(shard, { shard, node: value.node, epoch: value.epoch, revision: e.revision, seenAt: now });
      if (before?.node !== value.node || before.epoch !== value.epoch) this.onChange?.();
    } else if (e.key.startsWith('node.')) {
      const node = e.key.slice(5);
      const before = this.nodes.get(node);
      if (before !== undefined && e.revision < before.revision) return;
      if (gone) {
        if (before !== undefined) {
          this.nodes.delete(node);
          this.onNodeGone?.(node);
          this.onChange?.();
        }
        return;
      }
      this.nodes.set(node, { node, revision: e.revision, seenAt: now });
      if (before === undefined) this.onChange?.();
    }
  }

  /** Drop what the bucket no longer holds: entries not seen for `ttlMs` are read again. */
  async expire(kv: KV, ttlMs: number): Promise<void> {
    const stale = Date.now() - ttlMs;
    const keys: string[] = [];
    for (const l of this.leases.values()) if (l.seenAt < stale) keys.push(shardKey(l.shard));
    for (const n of this.nodes.values()) if (n.seenAt < stale) keys.push(nodeKey(n.node));
    await Promise.all(
      keys.map(async (key) => {
        const e = await kv.get(key);
        if (e === null || e.operation !== 'PUT') this.forget(key);
        else this.apply(e);
      }),
    );
  }

  /** The key is gone (expired, or deleted by this node). */
  forget(key: string): void {
    if (key.startsWith('shard.')) {
      if (this.leases.delete(Number(key.slice(6)))) this.onChange?.();
    } else if (key.startsWith('node.')) {
      const node = key.slice(5);
      if (this.nodes.delete(node)) {
        this.onNodeGone?.(node);
        this.onChange?.();
      }
    }
  }

  /** How many leases each node holds. */
  counts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const n of this.nodes.keys()) out.set(n, 0);
    for (const l of this.leases.values()) out.set(l.node, (out.get(l.node) ?? 0) + 1);
    return out;
  }
}

function parse(e: KvEntry): { node?: unknown; epoch?: unknown } | null {
  try {
    const v = e.json<unknown>();
    return typeof v === 'object' && v !== null ? (v as { node?: unknown; epoch?: unknown }) : null;
  } catch {
    return null;
  }
}
