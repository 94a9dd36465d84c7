// The key-value store as a service: `npm start` here (or `holdfast run src/service.ts`). Every key
// is a durable actor (src/entry.ts), kept in the embedded SQLite store by default (data/kv.db under
// the working directory; `--store postgres://…` or `--store memory` to change it): an acknowledged
// write survives a crash, a SIGKILL and a deploy. The HTTP front (@holdfast/http, on fastify)
// turns requests into asks.
import { createHttpFront } from '@holdfast/http';
import { defineService } from '@holdfast/runtime';
import { z } from 'zod';
import { entryId, Key, KvEntry, MAX_VALUE } from './entry.js';

export default defineService({
  name: 'kv',
  store: 'sqlite',
  // Named, so that a node of a cluster (`--cluster`) serves keys it has not been asked for yet.
  durable: { types: [KvEntry] },
  config: z.object({
    port: z.coerce.number().int().min(0).max(65_535).default(8082),
    host: z.string().default('127.0.0.1'),
    /** Open HTTP connections at once; more are closed as they arrive. */
    maxConnections: z.coerce.number().int().min(1).default(4_096),
    /** Time for a request (head and body) to arrive, in ms; a slower one gets 408. */
    requestTimeoutMs: z.coerce.number().int().min(100).default(30_000),
    /** How long an idle keep-alive connection is kept, in ms. */
    idleTimeoutMs: z.coerce.number().int().min(100).default(5_000),
  }),
  async start({ system, config, log, metrics }) {
    const entry = (key: string) => system.ref(KvEntry, entryId(key));
    // Acknowledged reads and writes, counted by the front (a write counts once its reply, which
    // leaves only after its commit, came back).
    let reads = 0;
    let writes = 0;
    const wrote = <T>(r: T): T => {
      writes++;
      return r;
    };
    metrics.counter({ name: 'kv_writes_total', help: 'Acknowledged writes (put, delete, incr, compare-and-set)', collect: () => writes });
    metrics.counter({ name: 'kv_reads_total', help: 'Reads answered', collect: () => reads });

    const front = createHttpFront({
      name: 'kv',
      log,
      metrics,
      // A value is at most 64 Ki characters, up to 4 bytes each in UTF-8.
      limits: {
        bodyBytes: MAX_VALUE * 4,
        connections: config.maxConnections,
        requestTimeoutMs: config.requestTimeoutMs,
        headersTimeoutMs: Math.min(10_000, config.requestTimeoutMs),
        idleTimeoutMs: config.idleTimeoutMs,
      },
    });
    const { app } = front;
    // A value is the request body as it came, whatever its content type (`curl -d` sends a form type).
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

    const KeyParams = z.object({ key: Key });
    app.get('/', () => ({ endpoints: ['GET|PUT|DELETE /kv/:key', 'POST /kv/:key/incr?by=N', 'PUT /kv/:key?version=N (compare-and-set)', 'GET /stats'] }));
    app.get('/stats', () => ({ reads, writes, durable: system.stats().durable }));
    app.get('/kv/:key', { schema: { params: KeyParams } }, async (req, reply) => {
      const { key } = req.params;
      const found = await entry(key).ask('get', { key });
      reads++;
      if (found === null) return reply.code(404).send({ error: 'NO_SUCH_KEY', message: 'no such key', key });
      return { key, ...found };
    });
    app.put(
      '/kv/:key',
      { schema: { params: KeyParams, querystring: z.object({ version: z.coerce.number().int().min(0).optional() }), body: z.string().max(MAX_VALUE) } },
      async (req) => {
        const { key } = req.params;
        const value = req.body;
        const { version } = req.query;
        const r = version === undefined ? await entry(key).ask('put', { key, value }) : await entry(key).ask('cas', { key, value, version });
        return { key, ...wrote(r) };
      },
    );
    app.delete('/kv/:key', { schema: { params: KeyParams } }, async (req, reply) => {
      const { key } = req.params;
      const deleted = await entry(key).ask('delete', { key });
      if (deleted) writes++;
      return reply.code(deleted ? 200 : 404).send({ key, deleted });
    });
    app.post('/kv/:key/incr', { schema: { params: KeyParams, querystring: z.object({ by: z.coerce.number().int().default(1) }) } }, async (req) => {
      const { key } = req.params;
      return { key, ...wrote(await entry(key).ask('incr', { key, by: req.query.by })) };
    });

    const url = await front.listen({ port: config.port, host: config.host });
    log.info({ front: url, store: system.stats().durable?.store }, `front listening: try curl -X PUT -d hello ${url}/kv/greeting`);
    return front.close;
  },
});
