import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createSystem, defineActor, defineProtocol } from '@holdfast/core';
import { memoryStore } from '@holdfast/core/store';
import { postgresStore } from '@holdfast/store-postgres';
import { sqliteStore } from '@holdfast/store-sqlite';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startPostgres, type TestPostgres } from '../src/postgres.js';
import { storeConformance } from '../src/storeConformance.js';

const Counter = defineActor(defineProtocol('idle-counter', { add: { input: z.object({}), reply: z.number() } }), {
  durable: { schema: z.object({ n: z.number().int() }) },
  init: () => ({ n: 0 }),
  handlers: { add: (s) => ++s.n },
});

// One suite, every store: the in-memory one and SQLite on a real file.
storeConformance(
  'memory',
  async () => {
    const store = memoryStore();
    return { store, reopen: () => store, cleanup: async () => {} };
  },
  { shared: true },
);

storeConformance('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-sqlite-'));
  const path = join(dir, 'data', 'actors.db');
  return {
    store: sqliteStore({ path }),
    reopen: () => sqliteStore({ path }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

// A real PostgreSQL server of the test's own, on loopback; a fresh database per test.
let pgServer: TestPostgres | null = null;
let databases = 0;
beforeAll(async () => {
  pgServer = await startPostgres();
}, 60_000);
afterAll(() => pgServer?.stop());

storeConformance(
  'postgres',
  async () => {
    const { url } = freshDatabase('conformance');
    return {
      store: postgresStore({ connectionString: url }),
      reopen: () => postgresStore({ connectionString: url }),
      cleanup: async () => {},
    };
  },
  { shared: true },
);

/** A fresh database on the test's server: its name, and its connection string. */
function freshDatabase(prefix: string): { readonly server: TestPostgres; readonly name: string; readonly url: string } {
  const server = pgServer as TestPostgres;
  const name = `${prefix}_${++databases}`;
  server.createDatabase(name);
  return { server, name, url: server.url(name) };
}

describe('postgres store, connections broken while idle', () => {
  it('tells the session’s listener (STORE_UNAVAILABLE); a system counts it, checks the store, and the next asks work on fresh connections', async () => {
    const { server, name, url } = freshDatabase('idle');
    const session = await postgresStore({ connectionString: url }).open();
    const errors: Error[] = [];
    session.onError?.((e) => errors.push(e));
    await session.commit([{ type: 't', id: 'a', state: { n: 1 }, version: 1, expected: 0 }]);
    server.terminateConnections(name);
    for (let i = 0; i < 200 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(errors.map((e) => [(e as { code?: string }).code, e.message.includes('idle connection')])).toEqual([['STORE_UNAVAILABLE', true]]);
    await session.commit([{ type: 't', id: 'a', state: { n: 2 }, version: 1, expected: 1 }]);
    expect((await session.load('t', 'a'))?.state).toEqual({ n: 2 });
    await session.close();

    const system = createSystem({ store: postgresStore({ connectionString: url }) });
    try {
      const counter = system.ref(Counter, 'c');
      expect(await counter.ask('add', {})).toBe(1);
      const before = system.stats().durable?.storeErrors ?? -1;
      server.terminateConnections(name);
      for (let i = 0; i < 200 && (system.stats().durable?.storeErrors ?? 0) === before; i++) await new Promise((r) => setTimeout(r, 10));
      // One per pooled connection that was open (the commits', the reminder poll's).
      expect(system.stats().durable?.storeErrors).toBeGreaterThan(before);
      expect(await counter.ask('add', {})).toBe(2);
      expect(system.stats().durable?.available).toBe(true);
    } finally {
      await system.shutdown();
    }
  });
});

describe('postgres store, opened while other processes write', () => {
  it('changes no table when its schema is current: it opens while another transaction holds the lock every commit takes, without waiting for it', async () => {
    const { server, name, url } = freshDatabase('busy');
    const first = await postgresStore({ connectionString: url }).open();
    await first.commit([{ type: 't', id: 'a', state: { n: 1 }, version: 1, expected: 0 }]);
    // Another process in the middle of a commit: its transaction holds the tables' row-exclusive
    // locks. Changing a table (ALTER TABLE) would wait for it, and deadlock with its next statement.
    const writer = server.psqlInBackground(
      name,
      "BEGIN; LOCK TABLE holdfast_actors, holdfast_reminders IN ROW EXCLUSIVE MODE; SELECT 'locked'; SELECT pg_sleep(10); COMMIT;",
    );
    await writer.printed('locked');
    let writing = true;
    void writer.exited.then(() => {
      writing = false;
    });
    const second = await postgresStore({ connectionString: url }).open();
    expect([second.epoch, writing]).toEqual([first.epoch + 1, true]);
    await second.close();
    await first.close();
    server.terminateConnections(name);
    expect(await writer.exited).not.toBe(0);
  });

  it('brings a database made by an earlier release up to date when opened: its rows load as they were', async () => {
    const { server, name, url } = freshDatabase('older');
    const first = await postgresStore({ connectionString: url }).open();
    await first.commit([{ type: 't', id: 'a', state: { n: 1 }, version: 1, expected: 0 }]);
    await first.close();
    // As an earlier release left it: no column of kept replies, a commit function of its own.
    const older = server.psqlInBackground(
      name,
      'ALTER TABLE holdfast_actors DROP COLUMN replies; COMMENT ON FUNCTION holdfast_commit(bigint, text[], text[], text[], integer[], bigint[], integer, integer, text[], text[], text[], bigint[], text[], text[], integer[], bigint[], integer[], text[]) IS NULL;',
    );
    expect(await older.exited).toBe(0);
    const session = await postgresStore({ connectionString: url }).open();
    await session.commit([{ type: 't', id: 'a', state: { n: 2 }, version: 1, expected: 1, replies: [{ key: 'k', message: 'add', ok: true, value: 2 }] }]);
    expect(await session.load('t', 'a')).toMatchObject({ state: { n: 2 }, revision: 2, replies: [{ key: 'k', message: 'add', ok: true, value: 2 }] });
    await session.close();
  });
});

describe('sqlite store, a file made by an earlier release', () => {
  it('gains the column of kept replies when opened: its rows load as they were, and keyed asks keep their replies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'holdfast-sqlite-old-'));
    const path = join(dir, 'actors.db');
    const old = new Database(path);
    old.exec(`CREATE TABLE holdfast_owner (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), epoch INTEGER NOT NULL);
      CREATE TABLE holdfast_actors (type TEXT NOT NULL, id TEXT NOT NULL, state TEXT NOT NULL, version INTEGER NOT NULL,
        revision INTEGER NOT NULL, epoch INTEGER NOT NULL, PRIMARY KEY (type, id)) WITHOUT ROWID;
      INSERT INTO holdfast_owner VALUES (1, 3);
      INSERT INTO holdfast_actors VALUES ('idle-counter', 'c', '{"n":41}', 1, 7, 3);`);
    old.close();
    const system = createSystem({ store: sqliteStore({ path }) });
    try {
      const counter = system.ref(Counter, 'c');
      expect(await counter.ask('add', {}, { idempotencyKey: 'once' })).toBe(42);
      expect(await counter.ask('add', {}, { idempotencyKey: 'once' })).toBe(42);
      expect(await counter.ask('add', {})).toBe(43);
    } finally {
      await system.shutdown();
    }
    const session = await sqliteStore({ path }).open();
    expect(await session.load('idle-counter', 'c')).toMatchObject({
      state: { n: 43 },
      revision: 9,
      replies: [{ key: 'once', message: 'add', ok: true, value: 42 }],
    });
    await session.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('sqlite store across processes', () => {
  it('a process stopped with SIGSTOP, resumed after another opened the file, cannot write: STORE_FENCED, the row untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'holdfast-fence-'));
    const path = join(dir, 'actors.db');
    const child = spawn(process.execPath, ['--conditions=holdfast:source', '--import', 'tsx', 'test/fixtures/storeWriter.ts', path], {
      cwd: join(import.meta.dirname, '..'),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
    const next = async () => String((await lines.next()).value);
    try {
      const first = Number((await next()).split(' ')[1]);
      child.stdin?.write('a1 10 0\n');
      expect(await next()).toBe('ok');
      // The owner pauses; another process takes the store over and writes.
      process.kill(child.pid as number, 'SIGSTOP');
      const newer = await sqliteStore({ path }).open();
      expect(newer.epoch).toBeGreaterThan(first);
      await newer.commit([{ type: 'account', id: 'a1', state: { balance: 20 }, version: 1, expected: 1 }]);
      process.kill(child.pid as number, 'SIGCONT');
      // The old owner wakes up and tries to write, from the revision it knew and from the new one.
      child.stdin?.write('a1 666 1\n');
      expect(await next()).toBe('STORE_FENCED');
      child.stdin?.write('a1 666 2\n');
      expect(await next()).toBe('STORE_FENCED');
      expect(await newer.load('account', 'a1')).toEqual({ state: { balance: 20 }, version: 1, revision: 2, epoch: newer.epoch });
      await newer.close();
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
