// A CPU-heavy service: digests are computed by hasher actors on worker threads, so the HTTP
// front on the main thread keeps answering however busy they are. Run it with
// `npm start` in this directory (or `holdfast run src/service.ts`).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isHoldfastError } from '@holdfast/core';
import { defineService } from '@holdfast/runtime';
import { createWorkerHost, workerActor } from '@holdfast/workers';
import { z } from 'zod';
import { HasherProtocol } from './protocol.js';

const Hasher = workerActor(HasherProtocol, new URL('./hasher.actor.ts', import.meta.url));

const DigestQuery = z.object({ rounds: z.coerce.number().int().min(1).max(5_000_000).default(1) });

/** Which hasher owns `text` (its cache): the same text always goes to the same actor. */
function shard(text: string, n: number): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0) % n;
}

export default defineService({
  name: 'digest',
  config: z.object({
    port: z.coerce.number().int().min(0).max(65_535).default(8081),
    host: z.string().default('127.0.0.1'),
    /** Worker threads for the hashers. */
    threads: z.coerce.number().int().min(1).max(64).default(2),
    /** Hasher actors, spread over the threads. */
    hashers: z.coerce.number().int().min(1).max(256).default(4),
    /** A thread whose heartbeat stops for this long is replaced. */
    heartbeatMs: z.coerce.number().int().min(50).default(5_000),
    /** Expose POST /stall (a handler that never returns), to watch a stuck thread being replaced. */
    allowStall: z.enum(['true', 'false']).default('false'),
  }),
  async start({ system, config, log }) {
    const host = createWorkerHost({ name: 'hashers', threads: config.threads, heartbeat: { timeoutMs: config.heartbeatMs } });
    const steward = system.steward('hashers');
    const hashers = Array.from({ length: config.hashers }, (_, i) => steward.spawn(Hasher, { id: `h${i}`, host }));

    const send = (res: http.ServerResponse, status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    const fail = (res: http.ServerResponse, e: unknown) => {
      if (isHoldfastError(e, 'WORKER_LOST')) return send(res, 503, { error: 'the worker thread was lost; retry', actor: e.details.actor });
      if (isHoldfastError(e, 'SHUTTING_DOWN')) return send(res, 503, { error: 'unavailable: the service is shutting down' });
      if (isHoldfastError(e, 'INVALID_MESSAGE')) return send(res, 400, { error: 'invalid input', issues: e.details.issues });
      if (isHoldfastError(e, 'ASK_TIMEOUT')) return send(res, 504, { error: 'timed out' });
      log.error({ err: e }, 'request failed');
      return send(res, 500, { error: isHoldfastError(e) ? e.code : 'internal error' });
    };
    const body = (req: http.IncomingMessage) =>
      new Promise<string>((resolve, reject) => {
        let text = '';
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => {
          text += chunk;
          if (text.length > 1 << 20) reject(new Error('body too large'));
        });
        req.on('end', () => resolve(text));
        req.on('error', reject);
      });

    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://front');
      if (req.method === 'GET' && url.pathname === '/') {
        return send(res, 200, { endpoints: ['POST /digest?rounds=N (body: the text)', 'GET /stats', 'GET /ping'] });
      }
      if (req.method === 'GET' && url.pathname === '/ping') return send(res, 200, { pong: true });
      if (req.method === 'POST' && url.pathname === '/digest') {
        const query = DigestQuery.safeParse(Object.fromEntries(url.searchParams));
        if (!query.success) return send(res, 400, { error: 'invalid input', issues: query.error.issues });
        return void body(req)
          .then((text) => {
            const i = shard(text, hashers.length);
            return (hashers[i] as (typeof hashers)[number])
              .ask('digest', { text, rounds: query.data.rounds }, { timeoutMs: 60_000 })
              .then((d) => ({ ...d, actor: `h${i}` }));
          })
          .then(
            (d) => send(res, 200, d),
            (e) => fail(res, e),
          );
      }
      if (req.method === 'GET' && url.pathname === '/stats') {
        return void Promise.all(hashers.map((h) => h.ask('stats', {}))).then(
          (stats) =>
            send(res, 200, {
              hashers: Object.fromEntries(stats.map((s, i) => [`h${i}`, s])),
              placement: Object.fromEntries(system.actors().map((a) => [a.id, a.host])),
              threads: host.stats(),
            }),
          (e) => fail(res, e),
        );
      }
      if (req.method === 'POST' && url.pathname === '/stall' && config.allowStall === 'true') {
        const i = Number(url.searchParams.get('actor') ?? 0);
        const h = hashers[i];
        if (h === undefined) return send(res, 404, { error: `no hasher h${i}` });
        return void h.ask('stall', {}, { timeoutMs: 60_000 }).then(
          () => send(res, 200, {}),
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
    log.info({ front, threads: config.threads, hashers: config.hashers }, `front listening: try curl -d hello '${front}/digest?rounds=100000'`);
    return () => new Promise<void>((resolve) => server.close(() => resolve()));
  },
});
