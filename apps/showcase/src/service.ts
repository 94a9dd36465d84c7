// The showcase as a long-lived service: `npm start` at the repository root runs this under
// `holdfast run`. Accounts live under a steward; a teller moves money between them; an HTTP
// front turns requests into asks.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isHoldfastError } from '@holdfast/core';
import { defineService } from '@holdfast/runtime';
import { z } from 'zod';
import { Account, AccountProtocol, Teller } from './bank.js';

const Transfer = z.object({ from: z.string(), to: z.string(), amount: z.coerce.number() });

export default defineService({
  name: 'showcase',
  config: z.object({
    /** The front's port (0 picks a free one). */
    port: z.coerce.number().int().min(0).max(65_535).default(8080),
    /** The front's address. */
    host: z.string().default('127.0.0.1'),
  }),
  async start({ system, config, log }) {
    const bank = system.steward('bank', { strategy: 'one-for-one' });
    const ids = ['alice', 'bob', 'carol'];
    for (const id of ids) bank.spawn(Account, { id, args: { opening: 1_000 } });
    const teller = system.spawn(Teller, { id: 'teller' });

    const send = (res: http.ServerResponse, status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    const fail = (res: http.ServerResponse, e: unknown) => {
      if (isHoldfastError(e, 'SHUTTING_DOWN')) return send(res, 503, { error: 'unavailable: the service is shutting down' });
      if (isHoldfastError(e, 'REJECTED')) return send(res, 409, { error: e.details.reason, details: e.details.details });
      if (isHoldfastError(e, 'INVALID_MESSAGE')) return send(res, 400, { error: 'invalid input', issues: e.details.issues });
      log.error({ err: e }, 'request failed');
      return send(res, 500, { error: isHoldfastError(e) ? e.code : 'internal error' });
    };

    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://front');
      const parts = url.pathname.split('/').filter(Boolean);
      if (req.method === 'GET' && parts.length === 0) {
        return send(res, 200, {
          endpoints: ['GET /accounts', 'GET /accounts/:id', 'POST /transfer?from=alice&to=bob&amount=10'],
        });
      }
      if (req.method === 'GET' && parts[0] === 'accounts' && parts.length === 1) {
        return void Promise.all(ids.map(async (id) => [id, await system.lookup(AccountProtocol, id)?.ask('balance', {})] as const)).then(
          (pairs) => send(res, 200, Object.fromEntries(pairs)),
          (e) => fail(res, e),
        );
      }
      if (req.method === 'GET' && parts[0] === 'accounts' && parts.length === 2) {
        const account = system.lookup(AccountProtocol, parts[1] as string);
        if (account === undefined) return send(res, 404, { error: `no account '${parts[1]}'` });
        return void account.ask('balance', {}).then(
          (balance) => send(res, 200, { id: parts[1], balance }),
          (e) => fail(res, e),
        );
      }
      if (req.method === 'POST' && parts[0] === 'transfer') {
        const input = Transfer.safeParse(Object.fromEntries(url.searchParams));
        if (!input.success) return send(res, 400, { error: 'invalid input', issues: input.error.issues });
        return void teller.ask('transfer', input.data).then(
          () => send(res, 200, { ok: true }),
          (e) => fail(res, e),
        );
      }
      return send(res, 404, { error: 'not found; GET / lists the endpoints' });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const front = `http://${config.host}:${(server.address() as AddressInfo).port}`;
    log.info({ front }, `front listening: try ${front}/accounts`);
    return () => new Promise<void>((resolve) => server.close(() => resolve()));
  },
});
