import { InvalidArgument } from '@holdfast/core';
import { checkKeys } from '@holdfast/core/host';
import { type ActorStore, type ShardFence, type StateWrite, type StoredReminder, type StoredState, StoreError, type StoreSession } from '@holdfast/core/store';
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

/**
 * The schema's version, written as the comment of holdfast_commit (the last thing SCHEMA makes, in
 * the same transaction): an open that finds it there changes nothing. Bump it whenever SCHEMA
 * changes, so that the next open brings an older database up to date.
 */
const SCHEMA_VERSION = 'holdfast schema 4';

/** Whether the schema is there at this version (reads the catalogue only: it takes no table lock). */
const SCHEMA_CURRENT = `SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE p.proname = 'holdfast_commit' AND n.nspname = current_schema() AND obj_description(p.oid, 'pg_proc') = $1`;

/** PostgreSQL's codes for a transaction it chose to abort that can be tried again: deadlock, serialization failure. */
const RETRYABLE_OPEN = new Set(['40P01', '40001']);

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
-- A cluster's shards: the epoch (lease) of each shard's newest owner. Shared sessions only.
CREATE TABLE IF NOT EXISTS holdfast_shards (
  shard integer PRIMARY KEY,
  epoch bigint NOT NULL
);
ALTER TABLE holdfast_reminders ADD COLUMN IF NOT EXISTS shard integer;
-- The replies an actor keeps to its keyed asks (JSON), written with its state.
ALTER TABLE holdfast_actors ADD COLUMN IF NOT EXISTS replies text;
DROP FUNCTION IF EXISTS holdfast_commit(bigint, text[], text[], text[], integer[], bigint[], integer, integer, text[], text[], text[], bigint[], text[], text[]);
DROP FUNCTION IF EXISTS holdfast_commit(bigint, text[], text[], text[], integer[], bigint[], integer, integer, text[], text[], text[], bigint[], text[], text[], integer[], bigint[], integer[]);
CREATE OR REPLACE FUNCTION holdfast_commit(
  p_epoch bigint, p_types text[], p_ids text[], p_states text[], p_versions integer[], p_expected bigint[],
  p_new integer, p_old integer,
  r_types text[], r_ids text[], r_names text[], r_ats bigint[], r_messages text[], r_inputs text[],
  f_shards integer[], f_epochs bigint[], r_shards integer[], p_replies text[]
) RETURNS void LANGUAGE plpgsql
-- One plan for every call: a custom plan per call (PostgreSQL's default for the first calls, and
-- for as long as it guesses one may be cheaper) costs more than the commit's own work.
SET plan_cache_mode = force_generic_plan
AS $fn$
DECLARE
  newest bigint;
  n bigint;
BEGIN
  IF f_shards IS NULL THEN
    -- The owner lock, shared: an open() elsewhere (which takes it alone) waits until this commit
    -- ends, and every commit after that open reads the newer epoch. An advisory lock lives in
    -- memory: unlike a row lock, taking it writes nothing.
    PERFORM pg_advisory_xact_lock_shared(1215261796, 1);
    SELECT epoch INTO newest FROM holdfast_owner WHERE singleton = 1;
    IF newest IS DISTINCT FROM p_epoch THEN
      RAISE EXCEPTION USING ERRCODE = 'HF001', MESSAGE = coalesce(newest, 0)::text;
    END IF;
  ELSE
    -- A shared session: each shard written must still be at the epoch its writer holds. The
    -- shard's lock, shared: a claim of the shard (which takes it alone) waits for this commit.
    FOR i IN 1 .. coalesce(array_length(f_shards, 1), 0) LOOP
      PERFORM pg_advisory_xact_lock_shared(1215261797, f_shards[i]);
      SELECT epoch INTO newest FROM holdfast_shards WHERE shard = f_shards[i];
      IF newest IS DISTINCT FROM f_epochs[i] THEN
        RAISE EXCEPTION USING ERRCODE = 'HF003', MESSAGE = f_shards[i]::text || ':' || coalesce(newest, 0)::text;
      END IF;
    END LOOP;
  END IF;
  -- p_new rows are new (expected revision 0), p_old rows updates: the caller counted them.
  IF p_new > 0 THEN
    INSERT INTO holdfast_actors (type, id, state, version, revision, epoch)
      SELECT t, i, s, v, 1, p_epoch FROM unnest(p_types, p_ids, p_states, p_versions, p_expected) AS u(t, i, s, v, e) WHERE e = 0
      ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> p_new THEN RAISE EXCEPTION USING ERRCODE = 'HF002', MESSAGE = 'conflict'; END IF;
  END IF;
  IF p_old > 0 THEN
    UPDATE holdfast_actors a SET state = u.s, version = u.v, revision = a.revision + 1, epoch = p_epoch
      FROM unnest(p_types, p_ids, p_states, p_versions, p_expected) AS u(t, i, s, v, e)
      WHERE u.e <> 0 AND a.type = u.t AND a.id = u.i AND a.revision = u.e;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> p_old THEN RAISE EXCEPTION USING ERRCODE = 'HF002', MESSAGE = 'conflict'; END IF;
  END IF;
  IF p_replies IS NOT NULL THEN
    UPDATE holdfast_actors a SET replies = u.rp FROM unnest(p_types, p_ids, p_replies) AS u(t, i, rp)
      WHERE u.rp IS NOT NULL AND a.type = u.t AND a.id = u.i;
  END IF;
  IF r_types IS NOT NULL THEN
    DELETE FROM holdfast_reminders m USING unnest(r_types, r_ids, r_names, r_ats) AS u(t, i, nm, at)
      WHERE u.at IS NULL AND m.type = u.t AND m.id = u.i AND m.name = u.nm;
    INSERT INTO holdfast_reminders (type, id, name, at, message, input, shard)
      SELECT t, i, nm, at, msg, inp, sh FROM unnest(r_types, r_ids, r_names, r_ats, r_messages, r_inputs, coalesce(r_shards, array_fill(NULL::integer, ARRAY[array_length(r_types, 1)]))) AS u(t, i, nm, at, msg, inp, sh) WHERE at IS NOT NULL
      ON CONFLICT (type, id, name) DO UPDATE SET at = excluded.at, message = excluded.message, input = excluded.input, shard = excluded.shard;
  END IF;
END
$fn$;
COMMENT ON FUNCTION holdfast_commit(bigint, text[], text[], text[], integer[], bigint[], integer, integer, text[], text[], text[], bigint[], text[], text[], integer[], bigint[], integer[], text[]) IS '${SCHEMA_VERSION}';
`;

const COMMIT_CALL = {
  name: 'holdfast_commit',
  text: 'SELECT holdfast_commit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)',
};

/** One advisory lock key for making the tables, so that two first opens do not race. */
const SCHEMA_LOCK = 0x486f6c64;
/** The advisory lock key of a shard (with the shard as the second key): commits share it, a claim takes it alone. */
const SHARD_LOCK = 1215261797;

interface ActorRow {
  state: string;
  version: number;
  revision: string;
  epoch: string;
  replies: string | null;
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

  const openSession = async (shared: boolean): Promise<StoreSession> => {
    // A transaction left idle (its process paused or stuck) is ended by the server, so that its
    // locks never keep a newer owner from opening.
    const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: connectTimeoutMs, idle_in_transaction_session_timeout: 5_000 });
    // An idle connection that breaks is reported here (the next query gets a fresh one): to the
    // system through onError, or as a process warning when nobody listens.
    let onError: ((error: Error) => void) | null = null;
    pool.on('error', (e) => {
      const error = StoreError.unavailable(name, 'idle connection', e);
      if (onError !== null) onError(error);
      else process.emitWarning(error.message, { code: error.code });
    });
    let epoch: number;
    try {
      const open = () =>
        transaction(pool, async (c) => {
          await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
          await c.query('SELECT pg_advisory_xact_lock($1, 1)', [SCHEMA_LOCK]);
          // Making or changing tables locks them alone: done only when the schema is not current,
          // so that a node that opens while others commit never waits on (or deadlocks with) them.
          if ((await c.query(SCHEMA_CURRENT, [SCHEMA_VERSION])).rowCount === 0) await c.query(SCHEMA);
          // A shared session takes no store-wide epoch: its writes are fenced per shard.
          if (shared) return 0;
          const r = await c.query<{ epoch: string }>(
            'INSERT INTO holdfast_owner (singleton, epoch) VALUES (1, 1) ON CONFLICT (singleton) DO UPDATE SET epoch = holdfast_owner.epoch + 1 RETURNING epoch',
          );
          return Number(r.rows[0]?.epoch);
        });
      // An upgrade that meets commits of older processes may still be chosen as a deadlock's
      // victim: it is tried again (a few times) before the open fails.
      for (let attempt = 1; ; attempt++) {
        try {
          epoch = await open();
          break;
        } catch (e) {
          if (attempt >= 5 || !RETRYABLE_OPEN.has((e as { code?: string }).code ?? '')) throw e;
          await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 50));
        }
      }
    } catch (e) {
      await pool.end().catch(() => {});
      throw StoreError.unavailable(name, 'open', e);
    }
    let closed = false;
    const ensureOpen = () => {
      if (closed) throw StoreError.closed(name, epoch);
    };
    const fenceCheck = async (c: pg.PoolClient, fence: ShardFence | undefined) => {
      if (shared) {
        if (fence === undefined) throw new StoreError('STORE_FENCED', `store '${name}': a write in a shared session must name its shard`, {});
        await c.query('SELECT pg_advisory_xact_lock_shared($1, $2)', [SHARD_LOCK, fence.shard]);
        const r = await c.query<{ epoch: string }>('SELECT epoch FROM holdfast_shards WHERE shard = $1', [fence.shard]);
        const newest = r.rows[0] === undefined ? 0 : Number(r.rows[0].epoch);
        if (newest !== fence.epoch) throw StoreError.shardFenced(name, fence.shard, fence.epoch, newest);
        return;
      }
      // The owner lock, shared (see holdfast_commit): an open() elsewhere waits until this transaction ends.
      await c.query('SELECT pg_advisory_xact_lock_shared($1, 1)', [SCHEMA_LOCK]);
      const r = await c.query<{ epoch: string }>('SELECT epoch FROM holdfast_owner WHERE singleton = 1');
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
          pool.query<ActorRow>('SELECT state, version, revision, epoch, replies FROM holdfast_actors WHERE type = $1 AND id = $2', [type, id]),
        );
        const row = r.rows[0];
        if (row === undefined) return null;
        const stored = { state: JSON.parse(row.state), version: row.version, revision: Number(row.revision), epoch: Number(row.epoch) };
        return row.replies === null ? stored : { ...stored, replies: JSON.parse(row.replies) };
      },
      async commit(writes: readonly StateWrite[]): Promise<void> {
        ensureOpen();
        if (writes.length === 0) return;
        // One round trip: the fence check, every row and every reminder in one server-side
        // function, atomic as one statement (a conflict or a newer owner raises, and nothing is written).
        const reminders = writes.flatMap((w) => (w.reminders ?? []).map((r) => [w, r] as const));
        const r = reminders.length > 0;
        let fences: Map<number, number> | null = null;
        if (shared) {
          fences = new Map();
          for (const w of writes) {
            if (w.fence === undefined) throw new StoreError('STORE_FENCED', `store '${name}': a write in a shared session must name its shard`, {});
            const seen = fences.get(w.fence.shard);
            if (seen !== undefined && seen !== w.fence.epoch)
              throw StoreError.shardFenced(name, w.fence.shard, Math.min(seen, w.fence.epoch), Math.max(seen, w.fence.epoch));
            fences.set(w.fence.shard, w.fence.epoch);
          }
        }
        try {
          const fresh = writes.reduce((n, w) => n + (w.expected === 0 ? 1 : 0), 0);
          // A named statement: parsed once per connection, not at every commit.
          await pool.query(COMMIT_CALL, [
            epoch,
            writes.map((w) => w.type),
            writes.map((w) => w.id),
            writes.map((w) => JSON.stringify(w.state)),
            writes.map((w) => w.version),
            writes.map((w) => w.expected),
            fresh,
            writes.length - fresh,
            r ? reminders.map(([w]) => w.type) : null,
            r ? reminders.map(([w]) => w.id) : null,
            r ? reminders.map(([, m]) => m.name) : null,
            r ? reminders.map(([, m]) => m.at) : null,
            r ? reminders.map(([, m]) => (m.at === null ? null : String(m.message))) : null,
            r ? reminders.map(([, m]) => (m.at === null ? null : JSON.stringify(m.input ?? null))) : null,
            fences === null ? null : [...fences.keys()],
            fences === null ? null : [...fences.values()],
            r && shared ? reminders.map(([w]) => w.fence?.shard ?? null) : null,
            writes.some((w) => w.replies !== undefined) ? writes.map((w) => (w.replies === undefined ? null : JSON.stringify(w.replies))) : null,
          ]);
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code === 'HF001') throw StoreError.fenced(name, epoch, Number((e as Error).message));
          if (code === 'HF003') {
            const [shard, newest] = (e as Error).message.split(':').map(Number) as [number, number];
            throw StoreError.shardFenced(name, shard, fences?.get(shard) ?? 0, newest);
          }
          if (code === 'HF002') {
            const c = await pool.connect();
            try {
              throw await firstConflict(c, writes);
            } finally {
              c.release();
            }
          }
          throw StoreError.unavailable(name, 'commit', e);
        }
      },
      async dueReminders(before: number, limit: number, shards?: readonly number[]): Promise<StoredReminder[]> {
        ensureOpen();
        type ReminderRow = { type: string; id: string; name: string; at: string; message: string; input: string };
        const r = await guarded('dueReminders', () =>
          shards === undefined
            ? pool.query<ReminderRow>('SELECT type, id, name, at, message, input FROM holdfast_reminders WHERE at < $1 ORDER BY at, type, id, name LIMIT $2', [
                before,
                limit,
              ])
            : pool.query<ReminderRow>(
                'SELECT type, id, name, at, message, input FROM holdfast_reminders WHERE at < $1 AND shard = ANY($3::integer[]) ORDER BY at, type, id, name LIMIT $2',
                [before, limit, shards],
              ),
        );
        return r.rows.map((row) => ({ type: row.type, id: row.id, name: row.name, at: Number(row.at), message: row.message, input: JSON.parse(row.input) }));
      },
      async remove(type: string, id: string, expected: number, fence?: ShardFence): Promise<void> {
        ensureOpen();
        await guarded('remove', () =>
          transaction(pool, async (c) => {
            await fenceCheck(c, fence);
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
      onError(listener: (error: Error) => void): void {
        onError = listener;
      },
      ...(shared
        ? {
            async claimShard(shard: number, at: number): Promise<void> {
              ensureOpen();
              await guarded('claimShard', () =>
                transaction(pool, async (c) => {
                  // Alone: waits for the commits to this shard in flight, and fences every later one.
                  await c.query('SELECT pg_advisory_xact_lock($1, $2)', [SHARD_LOCK, shard]);
                  const r = await c.query<{ epoch: string }>(
                    'INSERT INTO holdfast_shards (shard, epoch) VALUES ($1, $2) ON CONFLICT (shard) DO UPDATE SET epoch = excluded.epoch WHERE holdfast_shards.epoch <= excluded.epoch RETURNING epoch',
                    [shard, at],
                  );
                  if (r.rows.length === 0) {
                    const now = await c.query<{ epoch: string }>('SELECT epoch FROM holdfast_shards WHERE shard = $1', [shard]);
                    throw StoreError.shardFenced(name, shard, at, Number(now.rows[0]?.epoch ?? 0));
                  }
                }),
              );
            },
          }
        : {}),
    };
  };

  return {
    name,
    open: () => openSession(false),
    openShared: () => openSession(true),
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
