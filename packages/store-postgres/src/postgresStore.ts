import { InvalidArgument } from '@holdfast/core';
import { checkKeys } from '@holdfast/core/host';
import { type ActorStore, type StateWrite, type StoredState, StoreError, type StoreSession } from '@holdfast/core/store';
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
          const encoded = writes.map((w) => [w, JSON.stringify(w.state)] as const);
          await guarded('commit', () =>
            transaction(pool, async (c) => {
              await fenceCheck(c);
              for (const [w, state] of encoded) {
                const r =
                  w.expected === 0
                    ? await c.query(
                        'INSERT INTO holdfast_actors (type, id, state, version, revision, epoch) VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT DO NOTHING',
                        [w.type, w.id, state, w.version, epoch],
                      )
                    : await c.query(
                        'UPDATE holdfast_actors SET state = $1, version = $2, revision = revision + 1, epoch = $3 WHERE type = $4 AND id = $5 AND revision = $6',
                        [state, w.version, epoch, w.type, w.id, w.expected],
                      );
                if (r.rowCount !== 1) throw await conflict(c, w.type, w.id, w.expected);
              }
            }),
          );
        },
        async remove(type: string, id: string, expected: number): Promise<void> {
          ensureOpen();
          await guarded('remove', () =>
            transaction(pool, async (c) => {
              await fenceCheck(c);
              const r = await c.query('DELETE FROM holdfast_actors WHERE type = $1 AND id = $2 AND revision = $3', [type, id, expected]);
              if (r.rowCount !== 1) throw await conflict(c, type, id, expected);
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
