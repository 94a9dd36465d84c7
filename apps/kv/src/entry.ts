import { defineActor, defineProtocol, reject } from '@holdfast/core';
import { z } from 'zod';

/** A key: 1 to 256 characters. */
export const Key = z.string().min(1).max(256);
/** The longest value, in characters. */
export const MAX_VALUE = 1 << 16;
const Entry = z.object({ value: z.string(), version: z.number().int() });

/**
 * One key of the store: a durable actor per key (a virtual actor: it exists whether or not it is
 * in memory, wakes on its first message and sleeps when idle). Every read and write of the key is
 * a message to it, so a read-modify-write (`incr`, `cas`) cannot race with another, by
 * construction; and a write's reply leaves only once the new value is committed to the store.
 */
export const EntryProtocol = defineProtocol('kv-entry', {
  get: { input: z.object({ key: Key }), reply: Entry.nullable(), readonly: true },
  put: { input: z.object({ key: Key, value: z.string().max(MAX_VALUE) }), reply: z.object({ version: z.number().int() }) },
  delete: { input: z.object({ key: Key }), reply: z.boolean() },
  /** Add `by` to an integer value (missing: 0). Refuses a value that is not an integer, or a sum past 2^53 − 1. */
  incr: { input: z.object({ key: Key, by: z.number().int() }), reply: Entry },
  /** Write only if the key is at `version` (0: absent); otherwise `REJECTED` with `VERSION_CONFLICT`. */
  cas: { input: z.object({ key: Key, version: z.number().int().min(0), value: z.string().max(MAX_VALUE) }), reply: z.object({ version: z.number().int() }) },
});

/** What is stored for a key: its value (null: absent, or deleted) and its version (0 when absent). */
const EntryState = z.object({ value: z.string().max(MAX_VALUE).nullable(), version: z.number().int().min(0) });
type EntryState = z.infer<typeof EntryState>;

export const KvEntry = defineActor(EntryProtocol, {
  durable: { schema: EntryState, version: 1 },
  init: (): EntryState => ({ value: null, version: 0 }),
  handlers: {
    get: (s) => (s.value === null ? null : { value: s.value, version: s.version }),
    put(s, { value }) {
      s.value = value;
      s.version++;
      return { version: s.version };
    },
    delete(s) {
      if (s.value === null) return false;
      s.value = null;
      s.version = 0;
      return true;
    },
    incr(s, { key, by }) {
      const n = s.value === null ? 0 : Number(s.value);
      if (!Number.isSafeInteger(n)) reject('NOT_AN_INTEGER', { key });
      if (!Number.isSafeInteger(n + by)) reject('OUT_OF_RANGE', { key, value: n, by });
      s.value = String(n + by);
      s.version++;
      return { value: s.value, version: s.version };
    },
    cas(s, { key, version, value }) {
      if (s.version !== version) reject('VERSION_CONFLICT', { key, expected: version, actual: s.version });
      s.value = value;
      s.version++;
      return { version: s.version };
    },
  },
});

/** The actor id of a key. */
export function entryId(key: string): string {
  return `kv/${key}`;
}
