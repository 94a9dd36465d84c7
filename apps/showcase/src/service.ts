// The bank as a long-lived service: `npm start` here runs it under `holdfast run`. Accounts and
// transfers are durable actors (src/ledger.ts) in the embedded SQLite store (data/showcase.db
// under the working directory; `--store` to change it): balances survive crashes, restarts and
// deploys, and a transfer cut off by a crash is finished by its reminder after the restart. An
// HTTP front turns requests into asks.
import { randomUUID } from 'node:crypto';
import { createHttpFront } from '@holdfast/http';
import { defineService } from '@holdfast/runtime';
import { z } from 'zod';
import { LedgerAccount, Transfer } from './ledger.js';

const TransferQuery = z.object({
  from: z.string().max(64),
  to: z.string().max(64),
  amount: z.coerce.number(),
  /** The caller's idempotency key: the same id never moves money twice (default: a new one). */
  id: z
    .string()
    .regex(/^[\w-]{1,64}$/)
    .optional(),
});
const ACCOUNTS = ['alice', 'bob', 'carol'];

export default defineService({
  name: 'showcase',
  store: 'sqlite',
  durable: { types: [LedgerAccount, Transfer] },
  config: z.object({
    /** The front's port (0 picks a free one). */
    port: z.coerce.number().int().min(0).max(65_535).default(8080),
    /** The front's address. */
    host: z.string().default('127.0.0.1'),
    /** Each account's opening balance (only when it is opened: the first start on a store). */
    opening: z.coerce.number().int().min(0).default(1_000),
  }),
  async start({ system, config, log, metrics }) {
    const account = (id: string) => system.ref(LedgerAccount, id);
    // Opening is idempotent: on a store that has them, the accounts keep what they hold.
    const opened = await Promise.all(ACCOUNTS.map((id) => account(id).ask('open', { opening: config.opening })));
    log.info({ balances: Object.fromEntries(ACCOUNTS.map((id, i) => [id, opened[i]])) }, 'accounts open');

    const front = createHttpFront({
      name: 'showcase',
      log,
      metrics,
      rejected: { INSUFFICIENT_FUNDS: 409, NO_SUCH_ACCOUNT: 404, SAME_ACCOUNT: 400, TRANSFER_ID_REUSED: 409 },
    });
    const { app } = front;
    app.get('/', () => ({ endpoints: ['GET /accounts', 'GET /accounts/:id', 'POST /transfer?from=alice&to=bob&amount=10[&id=KEY]', 'GET /transfers/:id'] }));
    app.get('/accounts', async () => Object.fromEntries(await Promise.all(ACCOUNTS.map(async (id) => [id, await account(id).ask('balance', {})] as const))));
    app.get('/accounts/:id', { schema: { params: z.object({ id: z.string().max(64) }) } }, async (req, reply) => {
      if (!ACCOUNTS.includes(req.params.id)) return reply.code(404).send({ error: 'NO_SUCH_ACCOUNT', message: `no account '${req.params.id}'` });
      return { id: req.params.id, balance: await account(req.params.id).ask('balance', {}) };
    });
    app.post('/transfer', { schema: { querystring: TransferQuery } }, async (req) => {
      const { id = randomUUID(), from, to, amount } = req.query;
      await system.ref(Transfer, `transfer-${id}`).ask('start', { from, to, amount });
      return { ok: true, id };
    });
    app.get('/transfers/:id', { schema: { params: z.object({ id: z.string().regex(/^[\w-]{1,64}$/) }) } }, async (req) => ({
      id: req.params.id,
      ...(await system.ref(Transfer, `transfer-${req.params.id}`).ask('status', {})),
    }));
    const url = await front.listen({ port: config.port, host: config.host });
    log.info({ front: url, store: system.stats().durable?.store }, `front listening: try ${url}/accounts`);
    return front.close;
  },
});
