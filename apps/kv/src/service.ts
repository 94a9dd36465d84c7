// The key-value store as a service: `npm start` here (or `holdfast run src/service.ts`). Keys are
// owned by shard actors under one steward; the HTTP front (@holdfast/http, on fastify) turns
// requests into asks.
//
// Everything is in memory: a restart, a crash of the process or a deploy empties the store.
import { createHttpFront } from '@holdfast/http';
import { defineService } from '@holdfast/runtime';
import { z } from 'zod';
import { Key, MAX_VALUE, Shard, shardOf } from './shard.js';

export default defineService({
  name: 'kv',
  config: z.object({
    port: z.coerce.number().int().min(0).max(65_535).default(8082),
    host: z.string().default('127.0.0.1'),
    /** Shard actors: each owns the keys that hash to it. */
    shards: z.coerce.number().int().min(1).max(1_024).default(8),
    /** Open HTTP connections at once; more are closed as they arrive. */
    maxConnections: z.coerce.number().int().min(1).default(4_096),
    /** Time for a request (head and body) to arrive, in ms; a slower one gets 408. */
    requestTimeoutMs: z.coerce.number().int().min(100).default(30_000),
    /** How long an idle keep-alive connection is kept, in ms. */
    idleTimeoutMs: z.coerce.number().int().min(100).default(5_000),
  }),
  async start({ system, config, log, metrics }) {
    const steward = system.steward('shards');
    const shards = Array.from({ length: config.shards }, (_, i) => steward.spawn(Shard, { id: `shard-${i}` }));
    const owner = (key: string) => shards[shardOf(key, shards.length)] as (typeof shards)[number];
    metrics.gauge({
      name: 'kv_keys',
      help: 'Keys held, by shard',
      labelNames: ['shard'],
      collect: async () => (await Promise.all(shards.map((s) => s.ask('stats', {})))).map((s, i) => [{ shard: `shard-${i}` }, s.keys] as const),
    });

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
    app.get('/stats', async () => Object.fromEntries((await Promise.all(shards.map((s) => s.ask('stats', {})))).map((s, i) => [`shard-${i}`, s])));
    app.get('/kv/:key', { schema: { params: KeyParams } }, async (req, reply) => {
      const { key } = req.params;
      const entry = await owner(key).ask('get', { key });
      if (entry === null) return reply.code(404).send({ error: 'NO_SUCH_KEY', message: 'no such key', key });
      return { key, ...entry };
    });
    app.put(
      '/kv/:key',
      { schema: { params: KeyParams, querystring: z.object({ version: z.coerce.number().int().min(0).optional() }), body: z.string().max(MAX_VALUE) } },
      async (req) => {
        const { key } = req.params;
        const value = req.body;
        const { version } = req.query;
        const r = version === undefined ? await owner(key).ask('put', { key, value }) : await owner(key).ask('cas', { key, value, version });
        return { key, ...r };
      },
    );
    app.delete('/kv/:key', { schema: { params: KeyParams } }, async (req, reply) => {
      const { key } = req.params;
      const deleted = await owner(key).ask('delete', { key });
      return reply.code(deleted ? 200 : 404).send({ key, deleted });
    });
    app.post('/kv/:key/incr', { schema: { params: KeyParams, querystring: z.object({ by: z.coerce.number().int().default(1) }) } }, async (req) => {
      const { key } = req.params;
      return { key, ...(await owner(key).ask('incr', { key, by: req.query.by })) };
    });

    const url = await front.listen({ port: config.port, host: config.host });
    log.info({ front: url, shards: config.shards }, `front listening: try curl -X PUT -d hello ${url}/kv/greeting`);
    return front.close;
  },
});
