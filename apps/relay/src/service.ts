// The relay as a service: `npm start` here (or `holdfast run src/service.ts`). Carbon plaintext
// lines come in over TCP; the router actor owns the route table; one actor per destination owns
// its connection. An HTTP API changes the routes and says whether each change took.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { isHoldfastError } from '@holdfast/core';
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
  }),
  async start({ system, config, log, draining }) {
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
    const router = system
      .steward('routing')
      .spawn(Router, { id: 'router', args: { routes: config.routes, statsPrefix: config.statsPrefix, flushEveryMs: config.flushMs, openDestination } });

    // ---- ingest: carbon plaintext over TCP
    const connections = new Map<net.Socket, LineSplitter>();
    const ingest = net.createServer((socket) => {
      const splitter = new LineSplitter();
      connections.set(socket, splitter);
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        const lines = splitter.push(chunk);
        if (lines.length > 0) router.tell('lines', { lines });
      });
      socket.on('error', (e) => log.warn({ err: e, peer: socket.remoteAddress }, 'ingest connection failed'));
      socket.on('close', () => {
        if (splitter.pending > 0 && !draining.aborted) log.warn({ bytes: splitter.pending }, 'ingest connection closed in the middle of a line');
        connections.delete(socket);
      });
    });
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

    // ---- the HTTP API
    const send = (res: http.ServerResponse, status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    const fail = (res: http.ServerResponse, e: unknown) => {
      if (isHoldfastError(e, 'REJECTED'))
        return send(res, e.details.reason === 'ROUTE_NOT_FOUND' ? 404 : 409, { ok: false, error: e.details.reason, details: e.details.details });
      if (isHoldfastError(e, 'INVALID_MESSAGE')) return send(res, 400, { ok: false, error: 'invalid route', issues: e.details.issues });
      if (isHoldfastError(e, 'SHUTTING_DOWN') || isHoldfastError(e, 'MAILBOX_FULL')) return send(res, 503, { ok: false, error: 'unavailable', code: e.code });
      log.error({ err: e }, 'request failed');
      return send(res, 500, { ok: false, error: isHoldfastError(e) ? e.code : 'internal error' });
    };
    const reply = <T>(res: http.ServerResponse, p: Promise<T>, status: number) =>
      void p.then(
        (v) => send(res, status, v),
        (e) => fail(res, e),
      );
    const json = (req: http.IncomingMessage) =>
      new Promise<{ ok: true; value: unknown } | { ok: false }>((resolve) => {
        let text = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => {
          text += c;
        });
        req.on('end', () => {
          try {
            resolve({ ok: true, value: JSON.parse(text) });
          } catch {
            resolve({ ok: false });
          }
        });
      });
    const withBody = (req: http.IncomingMessage, res: http.ServerResponse, then: (body: Record<string, unknown>) => void) =>
      void json(req).then((b) =>
        b.ok && typeof b.value === 'object' && b.value !== null && !Array.isArray(b.value)
          ? then(b.value as Record<string, unknown>)
          : send(res, 400, { ok: false, error: 'the body must be a JSON object' }),
      );

    const api = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://api');
      const [head, name, extra] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      if (req.method === 'GET' && head === undefined) {
        return send(res, 200, { endpoints: ['GET /routes', 'POST /routes', 'PUT /routes/:name', 'DELETE /routes/:name', 'GET /stats'] });
      }
      if (head === 'stats' && req.method === 'GET') {
        return reply(
          res,
          router.ask('stats', {}).then(async (s) => ({
            ...s,
            destinations: await Promise.all(
              s.destinations.map(async (d) => (await system.lookup(DestinationProtocol, d.actor)?.ask('stats', {})) ?? { address: d.address, gone: true }),
            ),
          })),
          200,
        );
      }
      if (head !== 'routes' || extra !== undefined) return send(res, 404, { ok: false, error: 'not found; GET / lists the endpoints' });
      if (name === undefined) {
        if (req.method === 'GET') return reply(res, router.ask('routes', {}), 200);
        if (req.method === 'POST') return withBody(req, res, (route) => reply(res, router.ask('add', { route: route as RouteSpec }), 201));
      } else {
        if (req.method === 'PUT') return withBody(req, res, (route) => reply(res, router.ask('change', { route: { ...route, name } as RouteSpec }), 200));
        if (req.method === 'DELETE') return reply(res, router.ask('remove', { name }), 200);
      }
      return send(res, 405, { ok: false, error: `${req.method} not allowed here` });
    });

    const listen = (server: net.Server, port: number) =>
      new Promise<string>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, config.host, () => resolve(`${config.host}:${(server.address() as AddressInfo).port}`));
      });
    const ingestAt = await listen(ingest, config.ingestPort);
    const front = `http://${await listen(api, config.port)}`;
    log.info({ front, ingest: ingestAt, routes: config.routes.length }, `relay listening: carbon lines to ${ingestAt}, routes at ${front}/routes`);
    return () => new Promise<void>((resolve) => api.close(() => resolve()));
  },
});
