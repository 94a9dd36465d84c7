// Durable actors, measured against a hand-written floor on the same store: one table, direct
// prepared statements, and the same batching (the writes of every caller waiting when a commit
// starts go into that one transaction; one commit in flight at a time). Read-modify-write asks
// (increment a counter) one at a time and 64 at once, on SQLite with synchronous=FULL and NORMAL
// and on PostgreSQL; read-only asks against an in-memory actor; and a million actors touched once
// each with a bounded active set.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ActorSystem, createSystem, defineActor, defineProtocol } from '@holdfast/core';
import type { ActorStore } from '@holdfast/core/store';
import { postgresStore } from '@holdfast/store-postgres';
import { sqliteStore } from '@holdfast/store-sqlite';
import Database from 'better-sqlite3';
import pg from 'pg';
import { z } from 'zod';
import type { WorkerMeasurement, WorkerSample } from './workers.js';

export const DURABLE = 'holdfast (durable)';
export const DURABLE_FLOOR = 'floor (batched writer)';
export const IN_MEMORY = 'holdfast (in memory)';

/** Where a measurement runs. */
export type StoreConfig = 'sqlite-full' | 'sqlite-normal' | 'postgres';
export const STORE_CONFIGS: readonly StoreConfig[] = ['sqlite-full', 'sqlite-normal', 'postgres'];
export const CONFIG_TITLES: Record<StoreConfig, string> = {
  'sqlite-full': 'SQLite, synchronous=FULL',
  'sqlite-normal': 'SQLite, synchronous=NORMAL',
  postgres: 'PostgreSQL 15 (fsync on)',
};

/** A measurement of the durable family (shaped like the worker ones); its id is `<kind>/<config>`. */
export type DurableMeasurement = Omit<WorkerMeasurement, 'ratio'>;

const kinds = (c: StoreConfig): DurableMeasurement[] => [
  {
    id: `durable-seq-p50/${c}`,
    title: `${CONFIG_TITLES[c]}: sequential read-modify-write ask, p50`,
    unit: 'µs',
    better: 'lower',
    baseline: DURABLE_FLOOR,
    target: '≤ ×1.3 of one fsync’d transaction',
  },
  { id: `durable-seq-p99/${c}`, title: `${CONFIG_TITLES[c]}: sequential, p99`, unit: 'µs', better: 'lower', baseline: DURABLE_FLOOR, target: '—' },
  { id: `durable-1/${c}`, title: `${CONFIG_TITLES[c]}: throughput, 1 in flight`, unit: 'asks/s', better: 'higher', baseline: DURABLE_FLOOR, target: '—' },
  {
    id: `durable-64/${c}`,
    title: `${CONFIG_TITLES[c]}: throughput, 64 in flight (64 actors)`,
    unit: 'asks/s',
    better: 'higher',
    baseline: DURABLE_FLOOR,
    target: '≥ 0.7× the batched floor',
  },
];

export const durableMeasurements: DurableMeasurement[] = [
  ...STORE_CONFIGS.flatMap(kinds),
  {
    id: 'durable-readonly',
    title: 'Read-only ask to a durable actor (SQLite FULL) vs the same ask to an in-memory actor',
    unit: 'µs/ask',
    better: 'lower',
    baseline: IN_MEMORY,
    target: 'in-memory speed',
  },
  {
    id: 'durable-million',
    title: '1,000,000 durable actors touched once each (a write), at most 10,000 awake: peak memory',
    unit: 'MB',
    better: 'lower',
    baseline: null,
    target: 'bounded by the active set',
  },
];

/** One sample: a contestant's figure in one round (shaped like the worker samples). */
export type DurableSample = WorkerSample;

// ---------------------------------------------------------------- the contestants

/** Increment counter `id`; resolves with its new value once it is durable. */
interface Counters {
  add(id: string): Promise<number>;
  /** The stored values, read after close (for the check). */
  stored(ids: readonly string[]): Promise<number[]>;
  close(): Promise<void>;
}

const CounterProtocol = defineProtocol('bench-counter', {
  add: { input: z.object({}), reply: z.number() },
  get: { input: z.object({}), reply: z.number(), readonly: true },
});
const counterHandlers = {
  add(s: { n: number }) {
    return ++s.n;
  },
  get: (s: { n: number }) => s.n,
};
const DurableCounter = defineActor(CounterProtocol, {
  name: 'counter',
  durable: { schema: z.object({ n: z.number().int() }) },
  init: () => ({ n: 0 }),
  handlers: counterHandlers,
});
const MemoryCounter = defineActor(CounterProtocol, { name: 'memory-counter', init: () => ({ n: 0 }), handlers: counterHandlers });

/** Where one run keeps its data: a fresh SQLite file, or a fresh PostgreSQL database (created by the harness). */
export interface Place {
  readonly config: StoreConfig;
  /** The SQLite file, or the PostgreSQL connection string. */
  readonly where: string;
}

export function freshPlace(config: StoreConfig, pgUrl: string | null): Place {
  if (config === 'postgres') {
    if (pgUrl === null) throw new Error('postgres measurements need HOLDFAST_BENCH_PG (the harness starts a server)');
    return { config, where: pgUrl };
  }
  return { config, where: join(mkdtempSync(join(tmpdir(), 'holdfast-bench-')), 'bench.db') };
}

function storeOf(place: Place, synchronous?: 'full' | 'normal'): ActorStore {
  if (place.config === 'postgres') return postgresStore({ connectionString: place.where });
  return sqliteStore({ path: place.where, synchronous: synchronous ?? (place.config === 'sqlite-full' ? 'full' : 'normal') });
}

async function storedCounters(store: ActorStore, type: string, ids: readonly string[]): Promise<number[]> {
  const session = await store.open();
  try {
    return await Promise.all(ids.map(async (id) => ((await session.load(type, id))?.state as { n: number } | undefined)?.n ?? 0));
  } finally {
    await session.close();
  }
}

function holdfastCounters(place: Place): Counters & { system: ActorSystem } {
  const system = createSystem({ store: storeOf(place), askTimeoutMs: 60_000 });
  const refs = new Map<string, ReturnType<typeof system.ref<typeof CounterProtocol, { n: number }, undefined>>>();
  return {
    system,
    add(id) {
      let ref = refs.get(id);
      if (ref === undefined) {
        ref = system.ref(DurableCounter, id);
        refs.set(id, ref);
      }
      return ref.ask('add', {});
    },
    stored: (ids) => storedCounters(storeOf(place), 'counter', ids),
    async close() {
      await system.shutdown();
    },
  };
}

/** The floor: a Map of values in memory, and a batched writer of one table through prepared statements. */
function floorCounters(place: Place): Counters {
  const values = new Map<string, number>();
  let waiting: Array<{ id: string; n: number; resolve: (n: number) => void; reject: (e: unknown) => void }> = [];
  let queued = false;
  let writing = false;
  let write: (rows: ReadonlyArray<{ id: string; n: number }>) => Promise<void>;
  let close: () => Promise<void>;
  let readBack: (ids: readonly string[]) => Promise<number[]>;
  if (place.config === 'postgres') {
    const pool = new pg.Pool({ connectionString: place.where, max: 4 });
    const ready = pool.query('CREATE TABLE IF NOT EXISTS floor (id text PRIMARY KEY, state text NOT NULL, revision bigint NOT NULL)');
    write = async (rows) => {
      await ready;
      await pool.query(
        `INSERT INTO floor (id, state, revision) SELECT i, s, 1 FROM unnest($1::text[], $2::text[]) AS u(i, s)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, revision = floor.revision + 1`,
        [rows.map((r) => r.id), rows.map((r) => JSON.stringify({ n: r.n }))],
      );
    };
    close = () => pool.end();
    readBack = async (ids) => {
      const p = new pg.Pool({ connectionString: place.where, max: 1 });
      const r = await p.query<{ id: string; state: string }>('SELECT id, state FROM floor WHERE id = ANY($1)', [ids]);
      await p.end();
      const m = new Map(r.rows.map((x) => [x.id, (JSON.parse(x.state) as { n: number }).n]));
      return ids.map((id) => m.get(id) ?? 0);
    };
  } else {
    const db = new Database(place.where);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${place.config === 'sqlite-full' ? 'FULL' : 'NORMAL'}`);
    db.exec('CREATE TABLE IF NOT EXISTS floor (id TEXT PRIMARY KEY, state TEXT NOT NULL, revision INTEGER NOT NULL) WITHOUT ROWID');
    const upsert = db.prepare(
      'INSERT INTO floor (id, state, revision) VALUES (?, ?, 1) ON CONFLICT (id) DO UPDATE SET state = excluded.state, revision = revision + 1',
    );
    const tx = db.transaction((rows: ReadonlyArray<{ id: string; n: number }>) => {
      for (const r of rows) upsert.run(r.id, JSON.stringify({ n: r.n }));
    });
    write = async (rows) => {
      tx.immediate(rows);
    };
    close = async () => {
      db.close();
    };
    readBack = async (ids) => {
      const d = new Database(place.where, { readonly: true });
      const get = d.prepare('SELECT state FROM floor WHERE id = ?');
      const out = ids.map((id) => (JSON.parse((get.get(id) as { state: string } | undefined)?.state ?? '{"n":0}') as { n: number }).n);
      d.close();
      return out;
    };
  }
  const flush = async () => {
    queued = false;
    writing = true;
    const batch = waiting;
    waiting = [];
    // The last value of each counter in the batch is what is written.
    const last = new Map<string, number>();
    for (const w of batch) last.set(w.id, w.n);
    try {
      await write([...last].map(([id, n]) => ({ id, n })));
      for (const w of batch) w.resolve(w.n);
    } catch (e) {
      for (const w of batch) w.reject(e);
    }
    writing = false;
    if (waiting.length > 0) schedule();
  };
  const schedule = () => {
    if (queued || writing) return;
    queued = true;
    setImmediate(() => void flush());
  };
  return {
    add(id) {
      const n = (values.get(id) ?? 0) + 1;
      values.set(id, n);
      return new Promise((resolve, reject) => {
        waiting.push({ id, n, resolve, reject });
        schedule();
      });
    },
    stored: (ids) => readBack(ids),
    close: () => close(),
  };
}

// ---------------------------------------------------------------- the measurements

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

/** Sequential and 64-in-flight read-modify-write asks for one contestant on one store. */
export async function measureRmw(contestant: string, place: Place, quick: boolean): Promise<DurableSample[]> {
  const counters = contestant === DURABLE ? holdfastCounters(place) : floorCounters(place);
  const c = place.config;
  const out: DurableSample[] = [];
  try {
    // Warm up on the counter then measured (the JIT, the connections, the file's pages), untimed,
    // as the in-memory measurements do: the figures are the steady state.
    const warm = quick ? 20 : c === 'postgres' ? 2_000 : 5_000;
    for (let i = 0; i < warm; i++) await counters.add('seq');
    const n = quick ? 50 : c === 'postgres' ? 2_000 : 5_000;
    const lat: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      const v = await counters.add('seq');
      lat.push(performance.now() - s);
      if (v !== warm + i + 1) throw new Error(`sequential: got ${v}, expected ${warm + i + 1}`);
    }
    const seqMs = performance.now() - t0;
    lat.sort((a, b) => a - b);
    // 64 clients, each on its own counter, for a fixed time.
    const ms = quick ? 200 : 2_000;
    const counts = new Array<number>(64).fill(0);
    let stop = false;
    const t1 = performance.now();
    const clients = counts.map(async (_, k) => {
      while (!stop) {
        const v = await counters.add(`c${k}`);
        counts[k] = (counts[k] as number) + 1;
        if (v !== counts[k]) throw new Error(`client ${k}: got ${v}, expected ${counts[k]}`);
      }
    });
    await new Promise((r) => setTimeout(r, ms));
    stop = true;
    await Promise.all(clients);
    const parMs = performance.now() - t1;
    const total = counts.reduce((a, b) => a + b, 0);
    await counters.close();
    const ids = ['seq', ...counts.map((_, k) => `c${k}`)];
    const stored = await counters.stored(ids);
    const verified = stored[0] === warm + n && counts.every((k, i) => stored[i + 1] === k);
    out.push({ scenario: `durable-seq-p50/${c}`, contestant, value: percentile(lat, 0.5) * 1000, verified });
    out.push({ scenario: `durable-seq-p99/${c}`, contestant, value: percentile(lat, 0.99) * 1000, verified });
    out.push({ scenario: `durable-1/${c}`, contestant, value: n / (seqMs / 1000), verified });
    out.push({ scenario: `durable-64/${c}`, contestant, value: total / (parMs / 1000), verified, note: `${total} asks` });
    return out;
  } finally {
    await counters.close().catch(() => {});
  }
}

/** Read-only asks to a durable actor and to the same actor in memory, in one process. */
export async function measureReadonly(quick: boolean): Promise<DurableSample[]> {
  const place = freshPlace('sqlite-full', null);
  const system = createSystem({ store: storeOf(place) });
  try {
    const durable = system.ref(DurableCounter, 'ro');
    const memory = system.spawn(MemoryCounter, { id: 'memory' });
    await durable.ask('add', {});
    await memory.ask('add', {});
    const n = quick ? 2_000 : 200_000;
    const time = async (ask: () => Promise<number>) => {
      for (let i = 0; i < n / 4; i++) await ask();
      const t0 = performance.now();
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await ask();
      return { us: ((performance.now() - t0) * 1000) / n, ok: sum === n };
    };
    // Alternate, twice each, and keep the better of each (the first pass warms the JIT for both).
    const d1 = await time(() => durable.ask('get', {}));
    const m1 = await time(() => memory.ask('get', {}));
    const d2 = await time(() => durable.ask('get', {}));
    const m2 = await time(() => memory.ask('get', {}));
    const verified = d1.ok && d2.ok && m1.ok && m2.ok;
    return [
      { scenario: 'durable-readonly', contestant: DURABLE, value: Math.min(d1.us, d2.us), verified },
      { scenario: 'durable-readonly', contestant: IN_MEMORY, value: Math.min(m1.us, m2.us), verified },
    ];
  } finally {
    await system.shutdown();
    rmSync(join(place.where, '..'), { recursive: true, force: true });
  }
}

/** A million actors touched once each (one write each), at most `maxActive` awake: peak resident memory. */
export async function measureMillion(quick: boolean): Promise<DurableSample[]> {
  const place = freshPlace('sqlite-normal', null);
  const total = quick ? 20_000 : 1_000_000;
  const maxActive = quick ? 1_000 : 10_000;
  const system = createSystem({ store: storeOf(place, 'normal'), durable: { maxActive } });
  const before = process.memoryUsage().rss;
  let peak = before;
  let peakActive = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
    peakActive = Math.max(peakActive, system.stats().durable?.active ?? 0);
  }, 50);
  const t0 = performance.now();
  let next = 0;
  let wrong = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      // A fresh ref per touch, as a request handler would make: the system keeps nothing for it.
      if ((await system.ref(DurableCounter, `a${i}`).ask('add', {})) !== 1) wrong++;
    }
  };
  await Promise.all(Array.from({ length: 1_000 }, worker));
  const ms = performance.now() - t0;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const stats = system.stats().durable;
  await system.shutdown();
  const db = new Database(place.where, { readonly: true });
  const rows = (db.prepare("SELECT count(*) AS n FROM holdfast_actors WHERE type = 'counter'").get() as { n: number }).n;
  db.close();
  rmSync(join(place.where, '..'), { recursive: true, force: true });
  // Awake at most: the active set, plus the 1,000 touched right now (busy actors are not put to sleep).
  const verified = wrong === 0 && rows === total && peakActive <= maxActive + 1_000;
  return [
    {
      scenario: 'durable-million',
      contestant: DURABLE,
      value: peak / 2 ** 20,
      verified,
      note: `${total.toLocaleString('en')} actors in ${(ms / 1000).toFixed(1)} s (${Math.round(total / (ms / 1000)).toLocaleString('en')}/s); RSS before ${Math.round(before / 2 ** 20)} MB; at most ${peakActive.toLocaleString('en')} awake (maxActive ${maxActive.toLocaleString('en')}, plus 1,000 in flight); ${stats?.passivations.toLocaleString('en')} put to sleep; ${rows.toLocaleString('en')} rows`,
    },
  ];
}
