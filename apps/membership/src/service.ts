// A membership node as a service: `npm start -- --config port=7001` for the first node, then
// `npm start -- --config port=7002 --config seed=127.0.0.1:7001` and so on. Nodes gossip over
// HTTP on loopback; `GET /members` shows what this node believes.
import { createHttpFront } from '@holdfast/http';
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
  async start({ system, config, log, draining, metrics }) {
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

    const front = createHttpFront({ name: 'membership', log, metrics, limits: { bodyBytes: 4 * 1024 * 1024 } });
    const { app } = front;
    // Until the node knows its own address (the port may be 0), it is starting.
    app.addHook('onRequest', async (_req, reply) => {
      if (membership === null) return reply.code(503).send({ error: 'STARTING', message: 'the node is starting' });
    });
    app.get('/members', () => (membership as NonNullable<typeof membership>).ask('members', {}));
    // A gossip body is checked here (a JSON object with an array of entries) and again by the actor's protocol.
    app.post('/gossip', { schema: { body: z.object({ entries: z.array(z.unknown()).max(10_000) }) } }, (req) =>
      (membership as NonNullable<typeof membership>).ask('exchange', { entries: req.body.entries as Entry[] }),
    );
    const url = await front.listen({ port: config.port, host: config.host });
    const self = url.slice('http://'.length);
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
      await front.close();
    };
  },
});
