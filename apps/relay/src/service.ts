// The relay as a service: `npm start` here (or `holdfast run src/service.ts`). Carbon plaintext
// lines come in over TCP; the router actor owns the route table; one actor per destination owns
// its connection. An HTTP API changes the routes and says whether each change took.
//
// Routes live in memory only: a restart goes back to the routes of the configuration, and the
// lines a destination was holding while it was away are lost.
import { timingSafeEqual } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { createHttpFront } from '@holdfast/http';
import { defineService } from '@holdfast/runtime';
import { z } from 'zod';
import { LineSplitter } from './carbon.js';
import { Destination, DestinationProtocol } from './destination.js';
import { Router } from './router.js';
import { RouteSpec } from './routes.js';

const Routes = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'routes must be a JSON array of routes' });
      return z.NEVER;
    }
  })
  .pipe(z.array(RouteSpec));

/** A token from a file that only its owner may read. */
function readToken(path: string): string {
  const st = lstatSync(path);
  if (!st.isFile() || (st.mode & 0o077) !== 0) throw new Error(`apiTokenFile ${path}: must be a regular file that only its owner may read (chmod 600)`);
  const token = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  if (token.length < 16) throw new Error(`apiTokenFile ${path}: the token must have at least 16 characters`);
  return token;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export default defineService({
  name: 'relay',
  config: z.object({
    /** The HTTP API (routes, stats). */
    port: z.coerce.number().int().min(0).max(65_535).default(8083),
    /** Carbon plaintext in. */
    ingestPort: z.coerce.number().int().min(0).max(65_535).default(2003),
    host: z.string().default('127.0.0.1'),
    /** The routes at start, as JSON: `[{"name":"cpu","match":{"kind":"prefix","pattern":"servers.cpu."},"destinations":["127.0.0.1:2103"]}]`. */
    routes: Routes.default([]),
    /** How often the per-route counters go out (as carbon lines, through the table). */
    flushMs: z.coerce.number().int().min(10).default(10_000),
    statsPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/)
      .default('relay'),
    /** Per destination: lines kept while it is unreachable, and bytes it may have unflushed. */
    maxWaiting: z.coerce.number().int().min(0).default(100_000),
    maxBufferedBytes: z.coerce
      .number()
      .int()
      .min(1_024)
      .default(64 * 1024 * 1024),
    reconnectMinMs: z.coerce.number().int().min(1).default(100),
    reconnectMaxMs: z.coerce.number().int().min(1).default(5_000),
    /** The longest line the ingest takes, in bytes; a longer one is dropped (and counted). */
    maxLineBytes: z.coerce
      .number()
      .int()
      .min(64)
      .max(1 << 20)
      .default(4_096),
    /** Open ingest connections at once; more are closed as they arrive (and counted). */
    maxIngestConnections: z.coerce.number().int().min(1).default(1_024),
    /** An ingest connection silent this long is closed, in ms. */
    ingestIdleMs: z.coerce.number().int().min(100).default(300_000),
    /**
     * The route API's token: set `RELAY_API_TOKEN` (never `--config`: the command line is visible
     * to every local user), or name a file of mode 600 with `apiTokenFile`. Required when `host`
     * is not a loopback address.
     */
    apiToken: z.string().min(16, 'the API token must have at least 16 characters').optional(),
    apiTokenFile: z.string().optional(),
  }),
  async start({ system, config, log, draining, metrics }) {
    const apiToken = config.apiToken ?? (config.apiTokenFile === undefined ? null : readToken(config.apiTokenFile));
    if (apiToken === null && !isLoopback(config.host)) {
      throw new Error(`the route API would listen on ${config.host} without a token: set RELAY_API_TOKEN or apiTokenFile, or listen on a loopback address`);
    }
    // Destinations first: at the end of the drain they stop after the router, so that every line
    // routed before is written out.
    const destinations = system.steward('destinations');
    let opened = 0;
    const openDestination = (address: string) =>
      destinations.spawn(Destination, {
        // A fresh id each time: a retired destination may still be writing out its last lines.
        id: `destination-${++opened}-${address}`,
        restart: 'transient',
        args: {
          address,
          maxWaiting: config.maxWaiting,
          maxBufferedBytes: config.maxBufferedBytes,
          reconnectMs: { min: config.reconnectMinMs, max: config.reconnectMaxMs },
          lastChanceMs: 2_000,
        },
      });
    // The router's mailbox makes the ingest wait when it is full (backpressure), rather than drop.
    const router = system.steward('routing').spawn(Router, {
      id: 'router',
      mailbox: { capacity: 1_000, overflow: 'wait' },
      args: { routes: config.routes, statsPrefix: config.statsPrefix, flushEveryMs: config.flushMs, openDestination },
    });

    // ---- ingest: carbon plaintext over TCP
    const dropped = new Map<string, number>();
    const drop = (reason: string, n = 1) => dropped.set(reason, (dropped.get(reason) ?? 0) + n);
    const connections = new Map<net.Socket, LineSplitter>();
    const ingest = net.createServer((socket) => {
      const splitter = new LineSplitter(config.maxLineBytes);
      connections.set(socket, splitter);
      // A connection that sends nothing for this long is closed.
      socket.setTimeout(config.ingestIdleMs, () => {
        drop('idle-connection');
        socket.destroy();
      });
      socket.on('data', (chunk: Buffer) => {
        const before = splitter.tooLong;
        const lines = splitter.push(chunk);
        if (splitter.tooLong > before) drop('too-long', splitter.tooLong - before);
        if (lines.length === 0) return;
        // Backpressure: no more reading from this connection until the router has room for these lines.
        socket.pause();
        router.send('lines', { lines }, { timeoutMs: 60_000 }).then(
          () => socket.resume(),
          (e: unknown) => {
            drop('router-unavailable', lines.length);
            log.warn({ err: e, lines: lines.length }, 'lines not taken by the router');
            socket.resume();
          },
        );
      });
      socket.on('error', (e) => log.warn({ err: e, peer: socket.remoteAddress }, 'ingest connection failed'));
      socket.on('close', () => {
        if (splitter.pending > 0 && !draining.aborted) log.warn({ bytes: splitter.pending }, 'ingest connection closed in the middle of a line');
        connections.delete(socket);
      });
    });
    ingest.maxConnections = config.maxIngestConnections;
    ingest.on('drop', () => drop('too-many-connections'));
    // The drain: no new connections, no more reading. Every line read so far is in the router's
    // mailbox already, and the system's drain sees it through to the destinations; then the last
    // counters go out.
    draining.addEventListener('abort', () => {
      ingest.close();
      for (const [socket, splitter] of connections) {
        socket.pause();
        socket.removeAllListeners('data');
        if (splitter.pending > 0) log.warn({ bytes: splitter.pending }, 'drain: an unfinished line was not taken');
        socket.destroy();
      }
      router.tell('flush', {});
    });

    // ---- metrics: what the router and the destinations count, and what the ingest dropped
    const routerStats = () => router.ask('stats', {});
    const destinationStats = async () =>
      (await Promise.all((await routerStats()).destinations.map((d) => system.lookup(DestinationProtocol, d.actor)?.ask('stats', {}) ?? null))).filter(
        (d) => d !== null,
      );
    metrics.counter({
      name: 'relay_lines_total',
      help: 'Lines read by the ingest, by outcome: accepted by the router, invalid (not carbon plaintext), unmatched by every route',
      labelNames: ['outcome'],
      collect: async () => {
        const s = await routerStats();
        return [
          [{ outcome: 'accepted' }, s.accepted],
          [{ outcome: 'invalid' }, s.invalid],
          [{ outcome: 'unmatched' }, s.unmatched],
        ];
      },
    });
    metrics.counter({
      name: 'relay_dropped_lines_total',
      help: 'Lines and connections the ingest dropped, by reason (too-long, router-unavailable, too-many-connections, idle-connection)',
      labelNames: ['reason'],
      collect: () => [...dropped].map(([reason, n]) => [{ reason }, n] as const),
    });
    metrics.counter({
      name: 'relay_destination_lines_total',
      help: 'Lines per destination: sent, or dropped (the destination was away too long, or its socket too far behind)',
      labelNames: ['destination', 'outcome'],
      collect: async () =>
        (await destinationStats()).flatMap((d) => [
          [{ destination: d.address, outcome: 'sent' }, d.sent] as const,
          [{ destination: d.address, outcome: 'dropped' }, d.dropped] as const,
        ]),
    });
    metrics.gauge({
      name: 'relay_destination_waiting_lines',
      help: 'Lines waiting for a destination to come back',
      labelNames: ['destination'],
      collect: async () => (await destinationStats()).map((d) => [{ destination: d.address }, d.waiting] as const),
    });
    metrics.gauge({ name: 'relay_ingest_connections', help: 'Open ingest connections', collect: () => connections.size });

    // ---- the HTTP API: loopback by default; anywhere else only with a token
    const front = createHttpFront({ name: 'relay-api', log, metrics, rejected: { ROUTE_NOT_FOUND: 404, ROUTE_EXISTS: 409 }, limits: { bodyBytes: 64 * 1024 } });
    const { app } = front;
    // A body is JSON whatever its content type says (`curl -d` sends a form type); fastify's parser refuses prototype pollution.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
    if (apiToken !== null) {
      const expected = Buffer.from(`Bearer ${apiToken}`);
      app.addHook('onRequest', async (req, reply) => {
        const given = Buffer.from(req.headers.authorization ?? '');
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          return reply
            .code(401)
            .header('www-authenticate', 'Bearer')
            .send({ error: 'UNAUTHORIZED', message: 'the route API needs Authorization: Bearer <token>' });
        }
      });
    }
    app.get('/', () => ({ endpoints: ['GET /routes', 'POST /routes', 'PUT /routes/:name', 'DELETE /routes/:name', 'GET /stats'] }));
    app.get('/stats', async () => {
      const s = await routerStats();
      return {
        ...s,
        destinations: await Promise.all(
          s.destinations.map(async (d) => (await system.lookup(DestinationProtocol, d.actor)?.ask('stats', {})) ?? { address: d.address, gone: true }),
        ),
        dropped: Object.fromEntries(dropped),
      };
    });
    const Name = z.object({ name: z.string().max(64) });
    app.get('/routes', () => router.ask('routes', {}));
    app.post('/routes', { schema: { body: z.record(z.string(), z.unknown()) } }, async (req, reply) =>
      reply.code(201).send(await router.ask('add', { route: req.body as RouteSpec })),
    );
    app.put('/routes/:name', { schema: { params: Name, body: z.record(z.string(), z.unknown()) } }, (req) =>
      router.ask('change', { route: { ...req.body, name: req.params.name } as RouteSpec }),
    );
    app.delete('/routes/:name', { schema: { params: Name } }, (req) => router.ask('remove', { name: req.params.name }));

    const listen = (server: net.Server, port: number) =>
      new Promise<string>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, config.host, () => resolve(`${config.host}:${(server.address() as AddressInfo).port}`));
      });
    const ingestAt = await listen(ingest, config.ingestPort);
    const url = await front.listen({ port: config.port, host: config.host });
    log.info(
      { front: url, ingest: ingestAt, routes: config.routes.length, apiToken: apiToken !== null },
      `relay listening: carbon lines to ${ingestAt}, routes at ${url}/routes`,
    );
    return front.close;
  },
});
