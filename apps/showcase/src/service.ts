// The bank as a long-lived service: `npm start` here runs it under `holdfast run`. Accounts live under a steward; a teller moves money between them; an HTTP
// front turns requests into asks. Balances live in memory only: a restart or a crash of the
// process resets every account to its opening balance.
import type { ActorRef } from '@holdfast/core';
import { createHttpFront } from '@holdfast/http';
import { defineService } from '@holdfast/runtime';
import { z } from 'zod';
import { Account, AccountProtocol, Teller } from './bank.js';

const Transfer = z.object({ from: z.string().max(64), to: z.string().max(64), amount: z.coerce.number() });
type AccountRef = ActorRef<typeof AccountProtocol>;

export default defineService({
  name: 'showcase',
  config: z.object({
    /** The front's port (0 picks a free one). */
    port: z.coerce.number().int().min(0).max(65_535).default(8080),
    /** The front's address. */
    host: z.string().default('127.0.0.1'),
  }),
  async start({ system, config, log, metrics }) {
    const bank = system.steward('bank', { strategy: 'one-for-one' });
    const ids = ['alice', 'bob', 'carol'];
    for (const id of ids) bank.spawn(Account, { id, args: { opening: 1_000 } });
    const teller = system.spawn(Teller, { id: 'teller' });

    const front = createHttpFront({ name: 'showcase', log, metrics, rejected: { INSUFFICIENT_FUNDS: 409, NO_SUCH_ACCOUNT: 404 } });
    const { app } = front;
    app.get('/', () => ({ endpoints: ['GET /accounts', 'GET /accounts/:id', 'POST /transfer?from=alice&to=bob&amount=10'] }));
    app.get('/accounts', async () =>
      Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await (system.lookup(AccountProtocol, id) as AccountRef).ask('balance', {})] as const))),
    );
    app.get('/accounts/:id', { schema: { params: z.object({ id: z.string().max(64) }) } }, async (req, reply) => {
      const account = system.lookup(AccountProtocol, req.params.id);
      if (account === undefined) return reply.code(404).send({ error: 'NO_SUCH_ACCOUNT', message: `no account '${req.params.id}'` });
      return { id: req.params.id, balance: await account.ask('balance', {}) };
    });
    app.post('/transfer', { schema: { querystring: Transfer } }, async (req) => {
      await teller.ask('transfer', req.query);
      return { ok: true };
    });
    const url = await front.listen({ port: config.port, host: config.host });
    log.info({ front: url }, `front listening: try ${url}/accounts`);
    return front.close;
  },
});
