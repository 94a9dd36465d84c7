import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidArgument } from '@holdfast/core';
import { checkKeys } from '@holdfast/core/host';
import { type ActorStore, type StateWrite, type StoredReminder, type StoredState, StoreError, type StoreSession } from '@holdfast/core/store';
import Database from 'better-sqlite3';

/** Options of {@link sqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file (made with its directory when missing). */
  readonly path: string;
  /**
   * `full` (default): a commit returns after SQLite's fsync, so an acknowledged write survives a
   * power cut. `normal`: WAL commits are not fsync'd one by one; an acknowledged write survives a
   * crash of the process but may be lost with the last transactions if the machine loses power.
   */
  readonly synchronous?: 'full' | 'normal';
  /** How long a writer waits for another process's transaction before failing (default 5 000 ms). */
  readonly busyTimeoutMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS holdfast_owner (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  epoch INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS holdfast_actors (
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  state TEXT NOT NULL,
  version INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  replies TEXT,
  PRIMARY KEY (type, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS holdfast_reminders (
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  at INTEGER NOT NULL,
  message TEXT NOT NULL,
  input TEXT NOT NULL,
  PRIMARY KEY (type, id, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS holdfast_reminders_at ON holdfast_reminders (at);
`;

/** At most this many rows per statement (SQLite binds at most 32,766 parameters). */
const CHUNK = 64;

interface ActorRow {
  state: string;
  version: number;
  revision: number;
  epoch: number;
  replies: string | null;
}

/**
 * A store in one SQLite file (better-sqlite3; WAL; `synchronous=FULL` unless told otherwise).
 * Each `open()` takes a new ownership epoch in the file itself, so a second process on the same
 * file fences the first: from then on the first one's commits fail with `STORE_FENCED`.
 *
 * Commits run synchronously on the calling thread (better-sqlite3 has no async API): a durable
 * system batches the turns that end together into one commit, so the fsync is paid once per
 * batch.
 *
 * @example
 * ```ts
 * const store = sqliteStore({ path: 'data/bank.db' });
 * ```
 */
export function sqliteStore(options: SqliteStoreOptions): ActorStore {
  checkKeys('sqliteStore', options, { path: true, synchronous: true, busyTimeoutMs: true });
  const { path } = options;
  if (typeof path !== 'string' || path.length === 0) throw new InvalidArgument('sqliteStore: path must be a non-empty string');
  const synchronous = options.synchronous ?? 'full';
  if (synchronous !== 'full' && synchronous !== 'normal')
    throw new InvalidArgument(`sqliteStore: synchronous must be 'full' or 'normal', got ${String(synchronous)}`);
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  if (!(busyTimeoutMs >= 0) || !Number.isFinite(busyTimeoutMs))
    throw new InvalidArgument(`sqliteStore: busyTimeoutMs must be a finite number >= 0, got ${busyTimeoutMs}`);
  const name = `sqlite:${path}`;

  return {
    name,
    async open(): Promise<StoreSession> {
      let db: Database.Database;
      try {
        if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
        db = new Database(path);
        db.pragma('journal_mode = WAL');
        db.pragma(`synchronous = ${synchronous.toUpperCase()}`);
        db.pragma(`busy_timeout = ${Math.round(busyTimeoutMs)}`);
        db.exec(SCHEMA);
        // A file made before replies to keyed asks were kept gains their column.
        const columns = db.prepare("SELECT name FROM pragma_table_info('holdfast_actors')").all() as Array<{ name: string }>;
        if (!columns.some((c) => c.name === 'replies')) db.exec('ALTER TABLE holdfast_actors ADD COLUMN replies TEXT');
      } catch (e) {
        throw StoreError.unavailable(name, 'open', e);
      }
      const takeEpoch = db.transaction(
        () =>
          (
            db
              .prepare('INSERT INTO holdfast_owner (singleton, epoch) VALUES (1, 1) ON CONFLICT (singleton) DO UPDATE SET epoch = epoch + 1 RETURNING epoch')
              .get() as {
              epoch: number;
            }
          ).epoch,
      );
      let epoch: number;
      try {
        epoch = takeEpoch.immediate();
      } catch (e) {
        db.close();
        throw StoreError.unavailable(name, 'open', e);
      }
      const owner = db.prepare('SELECT epoch FROM holdfast_owner WHERE singleton = 1');
      const select = db.prepare('SELECT state, version, revision, epoch, replies FROM holdfast_actors WHERE type = ? AND id = ?');
      const setReplies = db.prepare('UPDATE holdfast_actors SET replies = ? WHERE type = ? AND id = ?');
      // A commit writes its rows with one statement per kind (new rows, updated rows) for up to
      // CHUNK rows at a time; each statement checks the owner epoch itself (a scalar subquery,
      // run once per statement), so a write that lands proves the epoch was ours, and nobody can
      // change it while this transaction holds the write lock. When fewer rows land than were
      // written, fenceCheck and firstConflict say why.
      const ours = '(SELECT epoch FROM holdfast_owner WHERE singleton = 1) = ?';
      // One row goes without a VALUES list (SQLite would make a temporary table of it).
      const insertOne = db.prepare(
        `INSERT INTO holdfast_actors (type, id, state, version, revision, epoch) SELECT ?, ?, ?, ?, 1, ? WHERE ${ours} ON CONFLICT DO NOTHING`,
      );
      const updateOne = db.prepare(
        `UPDATE holdfast_actors SET state = ?, version = ?, revision = revision + 1, epoch = ? WHERE type = ? AND id = ? AND revision = ? AND ${ours}`,
      );
      /** The statement writing `n` rows (n > 1) at once, new ones or updates; prepared once per size. */
      const batches = new Map<number, Database.Statement>();
      const batchOf = (n: number, fresh: boolean) => {
        // New rows under -n, updates under n.
        const key = fresh ? -n : n;
        let st = batches.get(key);
        if (st === undefined) {
          const rows = Array.from({ length: n }, () => (fresh ? '(?, ?, ?, ?)' : '(?, ?, ?, ?, ?)')).join(', ');
          st = db.prepare(
            fresh
              ? `INSERT INTO holdfast_actors (type, id, state, version, revision, epoch) SELECT column1, column2, column3, column4, 1, ? FROM (VALUES ${rows}) WHERE ${ours} ON CONFLICT DO NOTHING`
              : `UPDATE holdfast_actors AS a SET state = u.column3, version = u.column4, revision = a.revision + 1, epoch = ? FROM (VALUES ${rows}) AS u WHERE a.type = u.column1 AND a.id = u.column2 AND a.revision = u.column5 AND ${ours}`,
          );
          batches.set(key, st);
        }
        return st;
      };
      const del = db.prepare('DELETE FROM holdfast_actors WHERE type = ? AND id = ? AND revision = ?');
      const setReminder = db.prepare(
        'INSERT INTO holdfast_reminders (type, id, name, at, message, input) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (type, id, name) DO UPDATE SET at = excluded.at, message = excluded.message, input = excluded.input',
      );
      const dropReminder = db.prepare('DELETE FROM holdfast_reminders WHERE type = ? AND id = ? AND name = ?');
      const dropReminders = db.prepare('DELETE FROM holdfast_reminders WHERE type = ? AND id = ?');
      const due = db.prepare('SELECT type, id, name, at, message, input FROM holdfast_reminders WHERE at < ? ORDER BY at, type, id, name LIMIT ?');
      const revisionOf = db.prepare('SELECT revision FROM holdfast_actors WHERE type = ? AND id = ?');
      let closed = false;

      const fenceCheck = () => {
        const newest = (owner.get() as { epoch: number }).epoch;
        if (newest !== epoch) throw StoreError.fenced(name, epoch, newest);
      };
      const revisionNow = (type: string, id: string) => (revisionOf.get(type, id) as { revision: number } | undefined)?.revision ?? 0;
      const conflict = (type: string, id: string, expected: number) => StoreError.conflict(name, type, id, expected, revisionNow(type, id));
      /** The first write of `writes` whose row is not at the revision it expects. */
      const firstConflict = (writes: readonly StateWrite[]) => {
        const stale = writes.find((w) => revisionNow(w.type, w.id) !== w.expected) ?? writes[0];
        return stale === undefined ? StoreError.conflict(name, '', '', 0, -1) : conflict(stale.type, stale.id, stale.expected);
      };
      /** Writes `rows` (all new, or all updates) in chunks; throws if any row did not land. */
      const writeRows = (rows: ReadonlyArray<readonly [StateWrite, string]>, fresh: boolean) => {
        for (let at = 0; at < rows.length; at += CHUNK) {
          const chunk = rows.slice(at, at + CHUNK);
          let landed: number;
          if (chunk.length === 1) {
            const [w, state] = chunk[0] as readonly [StateWrite, string];
            landed = (
              fresh ? insertOne.run(w.type, w.id, state, w.version, epoch, epoch) : updateOne.run(state, w.version, epoch, w.type, w.id, w.expected, epoch)
            ).changes;
          } else {
            const args: unknown[] = [epoch];
            if (fresh) for (const [w, state] of chunk) args.push(w.type, w.id, state, w.version);
            else for (const [w, state] of chunk) args.push(w.type, w.id, state, w.version, w.expected);
            args.push(epoch);
            landed = batchOf(chunk.length, fresh).run(...args).changes;
          }
          if (landed !== chunk.length) {
            fenceCheck();
            throw firstConflict(chunk.map(([w]) => w));
          }
        }
      };
      const commitAll = db.transaction((writes: ReadonlyArray<readonly [StateWrite, string]>) => {
        const fresh = writes.filter(([w]) => w.expected === 0);
        if (fresh.length > 0) writeRows(fresh, true);
        writeRows(fresh.length === 0 ? writes : writes.filter(([w]) => w.expected !== 0), false);
        for (const [w] of writes) {
          if (w.replies !== undefined) setReplies.run(JSON.stringify(w.replies), w.type, w.id);
          if (w.reminders === undefined) continue;
          for (const m of w.reminders) {
            if (m.at === null) dropReminder.run(w.type, w.id, m.name);
            else setReminder.run(w.type, w.id, m.name, m.at, String(m.message), JSON.stringify(m.input ?? null));
          }
        }
      });
      const removeOne = db.transaction((type: string, id: string, expected: number) => {
        fenceCheck();
        if (del.run(type, id, expected).changes !== 1) throw conflict(type, id, expected);
        dropReminders.run(type, id);
      });
      const ensureOpen = () => {
        if (closed) throw StoreError.closed(name, epoch);
      };

      return {
        epoch,
        async load(type: string, id: string): Promise<StoredState | null> {
          ensureOpen();
          let row: ActorRow | undefined;
          try {
            row = select.get(type, id) as ActorRow | undefined;
          } catch (e) {
            throw StoreError.unavailable(name, 'load', e);
          }
          if (row === undefined) return null;
          const stored = { state: JSON.parse(row.state), version: row.version, revision: row.revision, epoch: row.epoch };
          return row.replies === null ? stored : { ...stored, replies: JSON.parse(row.replies) };
        },
        async commit(writes: readonly StateWrite[]): Promise<void> {
          ensureOpen();
          if (writes.length === 0) return;
          const encoded = writes.map((w) => [w, JSON.stringify(w.state)] as const);
          try {
            commitAll.immediate(encoded);
          } catch (e) {
            if (e instanceof StoreError) throw e;
            throw StoreError.unavailable(name, 'commit', e);
          }
        },
        async dueReminders(before: number, limit: number): Promise<StoredReminder[]> {
          ensureOpen();
          let rows: Array<{ type: string; id: string; name: string; at: number; message: string; input: string }>;
          try {
            rows = due.all(before, limit) as typeof rows;
          } catch (e) {
            throw StoreError.unavailable(name, 'dueReminders', e);
          }
          return rows.map((r) => ({ type: r.type, id: r.id, name: r.name, at: r.at, message: r.message, input: JSON.parse(r.input) }));
        },
        async remove(type: string, id: string, expected: number): Promise<void> {
          ensureOpen();
          try {
            removeOne.immediate(type, id, expected);
          } catch (e) {
            if (e instanceof StoreError) throw e;
            throw StoreError.unavailable(name, 'remove', e);
          }
        },
        async close(): Promise<void> {
          if (closed) return;
          closed = true;
          db.close();
        },
      };
    },
  };
}
