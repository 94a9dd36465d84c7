// A membership node as a service: `npm start -- --config port=7001` for the first node, then
// `npm start -- --config port=7002 --config seed=127.0.0.1:7001` and so on. Nodes gossip over
// HTTP on loopback; `GET /members` shows what this node believes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isHoldfastError } from '@holdfast/core';
import { defineService } from '@holdfast/runtime';
import { z } from 'zod';
import { type Entry, Membership, type Transport } from './membership.js';

/** Gossip over HTTP: POST the entries to the peer's `/gossip`, get its entries back. */
const http_: Transport = async (peer, entries, signal) => {
  const r = await fetch(`http://${peer}/gossip`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ entries }),
    signal,
  });
  if (!r.ok) throw new Error(`${peer} answered ${r.status}`);
  return (await r.json()) as Entry[];
};

export default defineService({
  name: 'membership',
  config: z.object({
    port: z.coerce.number().int().min(0).max(65_535).default(7001),
    host: z.string().default('127.0.0.1'),
    /** A node of the cluster to join through (host:port); none for the first node. */
    seed: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'seed is host:port')
      .optional(),
    gossipMs: z.coerce.number().int().min(10).default(500),
    failAfterMs: z.coerce.number().int().min(50).default(5_000),
    forgetAfterMs: z.coerce.number().int().min(50).default(30_000),
    fanout: z.coerce.number().int().min(1).max(16).default(3),
  }),
  async start({ system, config, log, draining }) {
    // The node's id is its address, known once the front listens (port 0 picks a free one).
    let membership: ReturnType<typeof spawnMembership> | null = null;
    const spawnMembership = (self: string) =>
      system.steward('cluster').spawn(Membership, {
        id: 'membership',
        args: {
          self,
          seed: config.seed ?? null,
          gossipMs: config.gossipMs,
          failAfterMs: config.failAfterMs,
          forgetAfterMs: config.forgetAfterMs,
          fanout: config.fanout,
          transport: http_,
        },
      });

    const send = (res: http.ServerResponse, status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    const fail = (res: http.ServerResponse, e: unknown) => {
      if (isHoldfastError(e, 'INVALID_MESSAGE')) return send(res, 400, { error: 'invalid gossip', issues: e.details.issues });
      if (isHoldfastError(e, 'SHUTTING_DOWN') || isHoldfastError(e, 'ACTOR_STOPPED')) return send(res, 503, { error: 'leaving' });
      log.error({ err: e }, 'request failed');
      return send(res, 500, { error: isHoldfastError(e) ? e.code : 'internal error' });
    };
    const server = http.createServer((req, res) => {
      const node = membership;
      if (node === null) return send(res, 503, { error: 'starting' });
      if (req.method === 'GET' && req.url === '/members') {
        return void node.ask('members', {}).then(
          (members) => send(res, 200, members),
          (e) => fail(res, e),
        );
      }
      if (req.method === 'POST' && req.url === '/gossip') {
        let text = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => {
          text += c;
        });
        return void req.on('end', () => {
          let body: { entries?: Entry[] };
          try {
            body = JSON.parse(text) as { entries?: Entry[] };
          } catch {
            return send(res, 400, { error: 'the body must be JSON' });
          }
          node.ask('exchange', { entries: body.entries as Entry[] }).then(
            (entries) => send(res, 200, entries),
            (e) => fail(res, e),
          );
        });
      }
      return send(res, 404, { error: 'GET /members, POST /gossip' });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const self = `${config.host}:${(server.address() as AddressInfo).port}`;
    membership = spawnMembership(self);
    // Leaving is the first thing the drain does: the peers learn it now, not after failAfterMs.
    const left = new Promise<void>((resolve) => {
      draining.addEventListener('abort', () => {
        void (membership as NonNullable<typeof membership>).ask('leave', { ms: 1_000 }).then(
          () => resolve(),
          (e: unknown) => {
            log.warn({ err: e }, 'could not announce the leave');
            resolve();
          },
        );
      });
    });
    log.info(
      { front: `http://${self}`, node: self, seed: config.seed ?? null },
      `node ${self} up${config.seed ? `, joining through ${config.seed}` : ', the first of its cluster'}`,
    );
    return async () => {
      await left;
      // Peers keep their gossip connections open: close them rather than wait for them.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    };
  },
});
