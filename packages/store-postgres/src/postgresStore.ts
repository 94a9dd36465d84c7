import { InvalidArgument } from '@holdfast/core';
import { checkKeys } from '@holdfast/core/host';
import { type ActorStore, type StateWrite, type StoredReminder, type StoredState, StoreError, type StoreSession } from '@holdfast/core/store';
import pg from 'pg';

/** Options of {@link postgresStore}. */
export interface PostgresStoreOptions {
  /** Where the database is: `postgres://user:password@host:port/database`. */
  readonly connectionString: string;
  /** Connections each session keeps at most (default 4). */
  readonly maxConnections?: number;
  /** How long a connection attempt may take before the store is unavailable (default 5 000 ms). */
  readonly connectTimeoutMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS holdfast_owner (
  singleton integer PRIMARY KEY CHECK (singleton = 1),
  epoch bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS holdfast_actors (
  type text NOT NULL,
  id text NOT NULL,
  state text NOT NULL,
  version integer NOT NULL,
  revision bigint NOT NULL,
  epoch bigint NOT NULL,
  PRIMARY KEY (type, id)
);
CREATE TABLE IF NOT EXISTS holdfast_reminders (
  type text NOT NULL,
  id text NOT NULL,
  name text NOT NULL,
  at bigint NOT NULL,
  message text NOT NULL,
  input text NOT NULL,
  PRIMARY KEY (type, id, name)
);
CREATE INDEX IF NOT EXISTS holdfast_reminders_at ON holdfast_reminders (at);
`;

/** One advisory lock key for making the tables, so that two first opens do not race. */
const SCHEMA_LOCK = 0x486f6c64;

interface ActorRow {
  state: string;
  version: number;
  revision: string;
  epoch: string;
}

/**
 * A store in a PostgreSQL database (`pg`). Each `open()` takes a new ownership epoch in the
 * database; a commit reads the epoch under a share lock in its own transaction, so an `open()`
 * by another process waits for the commits in flight, and every commit after it from an older
 * session fails with `STORE_FENCED`. Commits are durable when PostgreSQL says so (its default
 * `synchronous_commit = on`).
 *
 * @example
 * ```ts
 * const store = postgresStore({ connectionString: process.env.DATABASE_URL ?? '' });
 * ```
 */
export function postgresStore(options: PostgresStoreOptions): ActorStore {
  checkKeys('postgresStore', options, { connectionString: true, maxConnections: true, connectTimeoutMs: true });
  const { connectionString } = options;
  if (typeof connectionString !== 'string' || connectionString.length === 0)
    throw new InvalidArgument('postgresStore: connectionString must be a non-empty string');
  const max = options.maxConnections ?? 4;
  if (!Number.isInteger(max) || max < 1) throw new InvalidArgument(`postgresStore: maxConnections must be a positive integer, got ${max}`);
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  let where = 'postgres';
  try {
    const u = new URL(connectionString);
    where = `postgres://${u.host}${u.pathname}`;
  } catch {
    throw new InvalidArgument('postgresStore: connectionString is not a URL (postgres://user@host:port/database)');
  }
  const name = where;

  return {
    name,
    async open(): Promise<StoreSession> {
      // A transaction left idle (its process paused or stuck) is ended by the server, so that its
      // locks never keep a newer owner from opening.
      const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: connectTimeoutMs, idle_in_transaction_session_timeout: 5_000 });
      // An idle connection that breaks is reported here; the next query gets a fresh one.
      pool.on('error', () => {});
      let epoch: number;
      try {
        epoch = await transaction(pool, async (c) => {
          await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
          await c.query(SCHEMA);
          const r = await c.query<{ epoch: string }>(
            'INSERT INTO holdfast_owner (singleton, epoch) VALUES (1, 1) ON CONFLICT (singleton) DO UPDATE SET epoch = holdfast_owner.epoch + 1 RETURNING epoch',
          );
          return Number(r.rows[0]?.epoch);
        });
      } catch (e) {
        await pool.end().catch(() => {});
        throw StoreError.unavailable(name, 'open', e);
      }
      let closed = false;
      const ensureOpen = () => {
        if (closed) throw StoreError.closed(name, epoch);
      };
      const fenceCheck = async (c: pg.PoolClient) => {
        // A share lock on the owner row: an open() elsewhere waits until this transaction ends.
        const r = await c.query<{ epoch: string }>('SELECT epoch FROM holdfast_owner WHERE singleton = 1 FOR SHARE');
        const newest = Number(r.rows[0]?.epoch);
        if (newest !== epoch) throw StoreError.fenced(name, epoch, newest);
      };
      const conflict = async (c: pg.PoolClient, type: string, id: string, expected: number) => {
        const r = await c.query<{ revision: string }>('SELECT revision FROM holdfast_actors WHERE type = $1 AND id = $2', [type, id]);
        const actual = r.rows[0] === undefined ? 0 : Number(r.rows[0].revision);
        return StoreError.conflict(name, type, id, expected, actual);
      };
      /** The first write of `writes` whose row is not at the revision it expects (the statement wrote fewer rows than asked). */
      const firstConflict = async (c: pg.PoolClient, writes: readonly StateWrite[]) => {
        const r = await c.query<{ type: string; id: string; revision: string }>(
          'SELECT type, id, revision FROM holdfast_actors WHERE (type, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))',
          [writes.map((w) => w.type), writes.map((w) => w.id)],
        );
        const actual = new Map(r.rows.map((row) => [`${row.type}\u0000${row.id}`, Number(row.revision)]));
        for (const w of writes) {
          const now = actual.get(`${w.type}\u0000${w.id}`) ?? 0;
          if (now !== w.expected) return StoreError.conflict(name, w.type, w.id, w.expected, now);
        }
        return StoreError.conflict(name, writes[0]?.type ?? '', writes[0]?.id ?? '', writes[0]?.expected ?? 0, -1);
      };
      const guarded = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
        try {
          return await fn();
        } catch (e) {
          if (e instanceof StoreError) throw e;
          throw StoreError.unavailable(name, what, e);
        }
      };

      return {
        epoch,
        async load(type: string, id: string): Promise<StoredState | null> {
          ensureOpen();
          const r = await guarded('load', () =>
            pool.query<ActorRow>('SELECT state, version, revision, epoch FROM holdfast_actors WHERE type = $1 AND id = $2', [type, id]),
          );
          const row = r.rows[0];
          return row === undefined ? null : { state: JSON.parse(row.state), version: row.version, revision: Number(row.revision), epoch: Number(row.epoch) };
        },
        async commit(writes: readonly StateWrite[]): Promise<void> {
          ensureOpen();
          if (writes.length === 0) return;
          // A whole batch in a few statements (arrays unnested server-side), not one round trip per row.
          const inserts = writes.filter((w) => w.expected === 0);
          const updates = writes.filter((w) => w.expected !== 0);
          const reminders = writes.flatMap((w) => (w.reminders ?? []).map((r) => [w, r] as const));
          await guarded('commit', () =>
            transaction(pool, async (c) => {
              await fenceCheck(c);
              if (inserts.length > 0) {
                const r = await c.query(
                  `INSERT INTO holdfast_actors (type, id, state, version, revision, epoch)
                   SELECT t, i, s, v, 1, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS u(t, i, s, v)
                   ON CONFLICT DO NOTHING`,
                  [inserts.map((w) => w.type), inserts.map((w) => w.id), inserts.map((w) => JSON.stringify(w.state)), inserts.map((w) => w.version), epoch],
                );
                if (r.rowCount !== inserts.length) throw await firstConflict(c, inserts);
              }
              if (updates.length > 0) {
                const r = await c.query(
                  `UPDATE holdfast_actors a SET state = u.s, version = u.v, revision = a.revision + 1, epoch = $6
                   FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[]) AS u(t, i, s, v, e)
                   WHERE a.type = u.t AND a.id = u.i AND a.revision = u.e`,
                  [
                    updates.map((w) => w.type),
                    updates.map((w) => w.id),
                    updates.map((w) => JSON.stringify(w.state)),
                    updates.map((w) => w.version),
                    updates.map((w) => w.expected),
                    epoch,
                  ],
                );
                if (r.rowCount !== updates.length) throw await firstConflict(c, updates);
              }
              if (reminders.length > 0) {
                const drop = reminders.filter(([, r]) => r.at === null);
                const set = reminders.filter(([, r]) => r.at !== null);
                if (drop.length > 0) {
                  await c.query(
                    'DELETE FROM holdfast_reminders m USING unnest($1::text[], $2::text[], $3::text[]) AS u(t, i, n) WHERE m.type = u.t AND m.id = u.i AND m.name = u.n',
                    [drop.map(([w]) => w.type), drop.map(([w]) => w.id), drop.map(([, r]) => r.name)],
                  );
                }
                if (set.length > 0) {
                  await c.query(
                    `INSERT INTO holdfast_reminders (type, id, name, at, message, input)
                     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[])
                     ON CONFLICT (type, id, name) DO UPDATE SET at = excluded.at, message = excluded.message, input = excluded.input`,
                    [
                      set.map(([w]) => w.type),
                      set.map(([w]) => w.id),
                      set.map(([, r]) => r.name),
                      set.map(([, r]) => r.at),
                      set.map(([, r]) => String(r.message)),
                      set.map(([, r]) => JSON.stringify(r.input ?? null)),
                    ],
                  );
                }
              }
            }),
          );
        },
        async dueReminders(before: number, limit: number): Promise<StoredReminder[]> {
          ensureOpen();
          const r = await guarded('dueReminders', () =>
            pool.query<{ type: string; id: string; name: string; at: string; message: string; input: string }>(
              'SELECT type, id, name, at, message, input FROM holdfast_reminders WHERE at < $1 ORDER BY at, type, id, name LIMIT $2',
              [before, limit],
            ),
          );
          return r.rows.map((row) => ({ type: row.type, id: row.id, name: row.name, at: Number(row.at), message: row.message, input: JSON.parse(row.input) }));
        },
        async remove(type: string, id: string, expected: number): Promise<void> {
          ensureOpen();
          await guarded('remove', () =>
            transaction(pool, async (c) => {
              await fenceCheck(c);
              const r = await c.query('DELETE FROM holdfast_actors WHERE type = $1 AND id = $2 AND revision = $3', [type, id, expected]);
              if (r.rowCount !== 1) throw await conflict(c, type, id, expected);
              await c.query('DELETE FROM holdfast_reminders WHERE type = $1 AND id = $2', [type, id]);
            }),
          );
        },
        async close(): Promise<void> {
          if (closed) return;
          closed = true;
          await pool.end();
        },
      };
    },
  };
}

/** Run `fn` in one transaction on one connection: committed when it returns, rolled back when it throws. */
async function transaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const result = await fn(c);
    await c.query('COMMIT');
    return result;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}
