// A CPU-heavy service: digests are computed by hasher actors on worker threads, so the HTTP
// front on the main thread keeps answering however busy they are. Run it with `npm start` in
// this directory (or `holdfast run src/service.ts`).
//
// A hasher's cache lives in memory only: a restart forgets it (the results are recomputed).
import { createHttpFront } from '@holdfast/http';
import { defineService } from '@holdfast/runtime';
import { createWorkerHost, workerActor } from '@holdfast/workers';
import { z } from 'zod';
import { type HasherArgs, HasherProtocol, MAX_ROUNDS } from './protocol.js';

const Hasher = workerActor(HasherProtocol, new URL('./hasher.actor.ts', import.meta.url));

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
    /** Rounds a hasher runs per turn (a longer job takes turns with the others, a slice each). */
    sliceRounds: z.coerce.number().int().min(1_000).max(MAX_ROUNDS).default(20_000),
    /** Jobs longer than a slice that one hasher holds at once; more get 503 (BUSY). */
    maxJobs: z.coerce.number().int().min(1).max(1_000).default(8),
    /** How long a request may wait for its digest, in ms. */
    jobTimeoutMs: z.coerce.number().int().min(100).default(120_000),
    /** Expose POST /stall (a handler that never returns), to watch a stuck thread being replaced. */
    allowStall: z.enum(['true', 'false']).default('false'),
  }),
  async start({ system, config, log, metrics }) {
    const host = createWorkerHost({ name: 'hashers', threads: config.threads, heartbeat: { timeoutMs: config.heartbeatMs } });
    const steward = system.steward('hashers');
    const args: HasherArgs = { sliceRounds: config.sliceRounds, maxJobs: config.maxJobs };
    const hashers = Array.from({ length: config.hashers }, (_, i) => steward.spawn(Hasher, { id: `h${i}`, host, args }));
    const busy = metrics.counter({ name: 'digest_busy_total', help: 'Jobs refused because their hasher held as many as it may', labelNames: ['hasher'] });

    const front = createHttpFront({
      name: 'digest',
      log,
      metrics,
      rejected: { BUSY: 503 },
      // A socket is silent while its job runs: it may stay so for as long as a job may take.
      limits: { bodyBytes: 1 << 20, socketTimeoutMs: config.jobTimeoutMs + 10_000 },
    });
    const { app } = front;
    // The text to digest is the request body as it came, whatever its content type.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

    app.get('/', () => ({ endpoints: ['POST /digest?rounds=N (body: the text)', 'GET /stats', 'GET /ping'] }));
    app.get('/ping', () => ({ pong: true }));
    app.post(
      '/digest',
      { schema: { querystring: z.object({ rounds: z.coerce.number().int().min(1).max(MAX_ROUNDS).default(1) }), body: z.string().max(1 << 20) } },
      async (req, reply) => {
        const text = req.body;
        const i = shard(text, hashers.length);
        try {
          const d = await (hashers[i] as (typeof hashers)[number]).ask('digest', { text, rounds: req.query.rounds }, { timeoutMs: config.jobTimeoutMs });
          return { ...d, actor: `h${i}` };
        } catch (e) {
          if ((e as { details?: { reason?: string } }).details?.reason === 'BUSY') {
            busy.labels({ hasher: `h${i}` }).inc();
            void reply.header('retry-after', '1');
          }
          throw e;
        }
      },
    );
    app.get('/stats', async () => {
      const stats = await Promise.all(hashers.map((h) => h.ask('stats', {})));
      return {
        hashers: Object.fromEntries(stats.map((s, i) => [`h${i}`, s])),
        placement: Object.fromEntries(system.actors().map((a) => [a.id, a.host])),
        threads: host.stats(),
      };
    });
    if (config.allowStall === 'true') {
      app.post('/stall', { schema: { querystring: z.object({ actor: z.coerce.number().int().min(0).default(0) }) } }, async (req, reply) => {
        const h = hashers[req.query.actor];
        if (h === undefined) return reply.code(404).send({ error: 'NO_SUCH_HASHER', message: `no hasher h${req.query.actor}` });
        return h.ask('stall', {}, { timeoutMs: 60_000 });
      });
    }

    const url = await front.listen({ port: config.port, host: config.host });
    log.info({ front: url, threads: config.threads, hashers: config.hashers }, `front listening: try curl -d hello '${url}/digest?rounds=100000'`);
    return front.close;
  },
});
