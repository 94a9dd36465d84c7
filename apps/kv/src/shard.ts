import { defineActor, defineProtocol, reject } from '@holdfast/core';
import { z } from 'zod';

/** A key: 1 to 256 characters. */
export const Key = z.string().min(1).max(256);
/** The longest value, in characters. */
export const MAX_VALUE = 1 << 16;
const Entry = z.object({ value: z.string(), version: z.number().int() });

/**
 * A shard owns the keys that hash to it: every read and write of those keys is a message to it,
 * so a read-modify-write (`incr`, `cas`) cannot race with another, by construction.
 */
export const ShardProtocol = defineProtocol('kv-shard', {
  get: { input: z.object({ key: Key }), reply: Entry.nullable() },
  put: { input: z.object({ key: Key, value: z.string().max(MAX_VALUE) }), reply: z.object({ version: z.number().int() }) },
  delete: { input: z.object({ key: Key }), reply: z.boolean() },
  /** Add `by` to an integer value (missing: 0). Refuses a value that is not an integer, or a sum past 2^53 − 1. */
  incr: { input: z.object({ key: Key, by: z.number().int() }), reply: Entry },
  /** Write only if the key is at `version` (0: absent); otherwise `REJECTED` with `VERSION_CONFLICT`. */
  cas: { input: z.object({ key: Key, version: z.number().int().min(0), value: z.string().max(MAX_VALUE) }), reply: z.object({ version: z.number().int() }) },
  stats: { input: z.object({}), reply: z.object({ keys: z.number().int(), reads: z.number().int(), writes: z.number().int() }) },
});

interface ShardState {
  readonly entries: Map<string, { value: string; version: number }>;
  reads: number;
  writes: number;
}

export const Shard = defineActor(ShardProtocol, {
  init: (): ShardState => ({ entries: new Map(), reads: 0, writes: 0 }),
  handlers: {
    get(s, { key }) {
      s.reads++;
      const e = s.entries.get(key);
      return e === undefined ? null : { ...e };
    },
    put(s, { key, value }) {
      s.writes++;
      const version = (s.entries.get(key)?.version ?? 0) + 1;
      s.entries.set(key, { value, version });
      return { version };
    },
    delete(s, { key }) {
      s.writes++;
      return s.entries.delete(key);
    },
    incr(s, { key, by }) {
      const e = s.entries.get(key);
      const n = e === undefined ? 0 : Number(e.value);
      if (!Number.isSafeInteger(n)) reject('NOT_AN_INTEGER', { key });
      if (!Number.isSafeInteger(n + by)) reject('OUT_OF_RANGE', { key, value: n, by });
      s.writes++;
      const next = { value: String(n + by), version: (e?.version ?? 0) + 1 };
      s.entries.set(key, next);
      return { ...next };
    },
    cas(s, { key, version, value }) {
      const current = s.entries.get(key)?.version ?? 0;
      if (current !== version) reject('VERSION_CONFLICT', { key, expected: version, actual: current });
      s.writes++;
      s.entries.set(key, { value, version: current + 1 });
      return { version: current + 1 };
    },
    stats: (s) => ({ keys: s.entries.size, reads: s.reads, writes: s.writes }),
  },
  inspect: (s) => ({ keys: s.entries.size, reads: s.reads, writes: s.writes }),
});

/** Which shard owns `key`. */
export function shardOf(key: string, shards: number): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) % shards;
}
