// The key-value store as a service: `npm start` here (or `holdfast run src/service.ts`). Keys are
// owned by shard actors under one steward; the HTTP front turns requests into asks.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isHoldfastError } from '@holdfast/core';
import { defineService } from '@holdfast/runtime';
import { z } from 'zod';
import { Shard, shardOf } from './shard.js';

export default defineService({
  name: 'kv',
  config: z.object({
    port: z.coerce.number().int().min(0).max(65_535).default(8082),
    host: z.string().default('127.0.0.1'),
    /** Shard actors: each owns the keys that hash to it. */
    shards: z.coerce.number().int().min(1).max(1_024).default(8),
  }),
  async start({ system, config, log }) {
    const steward = system.steward('shards');
    const shards = Array.from({ length: config.shards }, (_, i) => steward.spawn(Shard, { id: `shard-${i}` }));
    const owner = (key: string) => shards[shardOf(key, shards.length)] as (typeof shards)[number];

    const send = (res: http.ServerResponse, status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    const fail = (res: http.ServerResponse, e: unknown) => {
      if (isHoldfastError(e, 'REJECTED')) return send(res, 409, { error: e.details.reason, details: e.details.details });
      if (isHoldfastError(e, 'INVALID_MESSAGE')) return send(res, 400, { error: 'invalid input', issues: e.details.issues });
      if (isHoldfastError(e, 'SHUTTING_DOWN') || isHoldfastError(e, 'MAILBOX_FULL')) return send(res, 503, { error: 'unavailable', code: e.code });
      log.error({ err: e }, 'request failed');
      return send(res, 500, { error: isHoldfastError(e) ? e.code : 'internal error' });
    };
    const body = (req: http.IncomingMessage) =>
      new Promise<string>((resolve, reject) => {
        let text = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => {
          text += c;
        });
        req.on('end', () => resolve(text));
        req.on('error', reject);
      });
    const reply = <T>(res: http.ServerResponse, p: Promise<T>, ok: (v: T) => [number, unknown]) =>
      void p.then(
        (v) => send(res, ...ok(v)),
        (e) => fail(res, e),
      );

    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://front');
      const [head, rawKey, op] = url.pathname.split('/').filter(Boolean);
      if (req.method === 'GET' && head === undefined) {
        return send(res, 200, { endpoints: ['GET|PUT|DELETE /kv/:key', 'POST /kv/:key/incr?by=N', 'PUT /kv/:key?version=N (compare-and-set)', 'GET /stats'] });
      }
      if (req.method === 'GET' && head === 'stats') {
        return reply(res, Promise.all(shards.map((s) => s.ask('stats', {}))), (all) => [200, Object.fromEntries(all.map((s, i) => [`shard-${i}`, s]))]);
      }
      if (head !== 'kv' || rawKey === undefined) return send(res, 404, { error: 'not found; GET / lists the endpoints' });
      const key = decodeURIComponent(rawKey);
      const shard = owner(key);
      if (req.method === 'GET' && op === undefined)
        return reply(res, shard.ask('get', { key }), (e) => (e === null ? [404, { error: 'no such key', key }] : [200, { key, ...e }]));
      if (req.method === 'DELETE' && op === undefined) return reply(res, shard.ask('delete', { key }), (gone) => [gone ? 200 : 404, { key, deleted: gone }]);
      if (req.method === 'POST' && op === 'incr')
        return reply(res, shard.ask('incr', { key, by: Number(url.searchParams.get('by') ?? 1) }), (e) => [200, { key, ...e }]);
      if (req.method === 'PUT' && op === undefined) {
        const version = url.searchParams.get('version');
        return void body(req).then((value) =>
          version === null
            ? reply(res, shard.ask('put', { key, value }), (r) => [200, { key, ...r }])
            : reply(res, shard.ask('cas', { key, value, version: Number(version) }), (r) => [200, { key, ...r }]),
        );
      }
      return send(res, 405, { error: `${req.method} not allowed here` });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const front = `http://${config.host}:${(server.address() as AddressInfo).port}`;
    log.info({ front, shards: config.shards }, `front listening: try curl -X PUT -d hello ${front}/kv/greeting`);
    return () => new Promise<void>((resolve) => server.close(() => resolve()));
  },
});
