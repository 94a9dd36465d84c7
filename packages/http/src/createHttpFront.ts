import type { AddressInfo, Socket } from 'node:net';
import { InvalidArgument, isHoldfastError, type Logger } from '@holdfast/core';
import { checkKeys } from '@holdfast/core/host';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault } from 'fastify';
import FindMyWay from 'find-my-way';
import { httpStatusOf, type RejectedStatuses } from './httpStatusOf.js';
import { type ZodTypeProvider, zodValidatorCompiler } from './ZodTypeProvider.js';

/**
 * What a front lets in. Past each limit a client gets a clear answer (or its connection closes)
 * and a counter moves (`holdfast_http_refused_total{reason}`); the service's memory does not.
 */
export interface HttpLimits {
  /** The largest request body (default 1 MiB): a larger one gets 413, read no further. */
  readonly bodyBytes?: number;
  /** The largest request head, request line and headers (default 16 KiB): a larger one gets 431. */
  readonly headerBytes?: number;
  /** Open connections at once (default 4 096): more are closed as they arrive. */
  readonly connections?: number;
  /** Time for a request's head to arrive (default 10 s): a slower one gets 408. */
  readonly headersTimeoutMs?: number;
  /** Time for a whole request, head and body, to arrive (default 30 s): a slower one gets 408. */
  readonly requestTimeoutMs?: number;
  /** How long an idle keep-alive connection is kept (default 5 s). */
  readonly idleTimeoutMs?: number;
  /**
   * A connection silent this long, in any state, is closed (default 120 s). It counts while a
   * handler runs, too: keep it above the longest a request may take to answer.
   */
  readonly socketTimeoutMs?: number;
}

/** The metrics a front keeps; `@holdfast/runtime`'s `ServiceContext.metrics` is one. */
export interface FrontMetrics {
  counter(options: { readonly name: string; readonly help: string; readonly labelNames?: readonly string[] }): {
    labels(labels: Readonly<Record<string, string | number>>): { inc(by?: number): void };
  };
  histogram(options: { readonly name: string; readonly help: string; readonly labelNames?: readonly string[]; readonly buckets?: readonly number[] }): {
    labels(labels: Readonly<Record<string, string | number>>): { observe(value: number): void };
  };
  gauge(options: { readonly name: string; readonly help: string; readonly labelNames?: readonly string[]; readonly collect?: () => number }): unknown;
}

/** Options of {@link createHttpFront}. */
export interface HttpFrontOptions {
  /** Names the front in its logs and metrics (label `front`). */
  readonly name: string;
  /** Where failures (5xx other than "unavailable") and refusals are logged. */
  readonly log: Logger;
  /** Where its counters go (default: nowhere). */
  readonly metrics?: FrontMetrics;
  readonly limits?: HttpLimits;
  /** HTTP statuses for business refusals by reason (default 409 for every one). */
  readonly rejected?: RejectedStatuses;
  /**
   * How long a closing front keeps its open connections, answering what arrives on them with
   * 503 and `Connection: close`, before it closes those left idle (default 1 000 ms). Clients
   * with keep-alive connections then learn of the drain from an answer, not from a reset.
   */
  readonly closeGraceMs?: number;
}

/** An HTTP front: a fastify app with zod routes, made by {@link createHttpFront}. */
export interface HttpFront {
  /** The fastify app: add routes, hooks and content-type parsers to it before `listen`. */
  readonly app: FastifyInstance<
    RawServerDefault,
    import('node:http').IncomingMessage,
    import('node:http').ServerResponse,
    import('fastify').FastifyBaseLogger,
    ZodTypeProvider
  >;
  /** Start listening; resolves with the front's URL (`http://host:port`). */
  listen(options: { readonly port: number; readonly host: string }): Promise<string>;
  /**
   * The drain's first step (return it from a service's `start`): answer new requests with 503
   * and `Connection: close` (requests in flight finish, and close their connections too), keep
   * open connections for the close grace so that their clients get that answer, then stop
   * listening, close what is idle, and resolve once every connection is closed. A request the
   * front has read always gets an answer.
   */
  close(): Promise<void>;
  /** Requests answered so far, by status class, and refusals by reason: what a drain test counts. */
  stats(): FrontStats;
}

/** What {@link HttpFront.stats} reports. */
export interface FrontStats {
  /** Requests the front read (their head was parsed). */
  readonly received: number;
  /** Requests the front answered (every status). Once closed, equal to `received`. */
  readonly answered: number;
  /** Of those, answered 503 while closing. */
  readonly unavailable: number;
  /** Refusals by reason: `body-too-large`, `headers-too-large`, `timeout`, `bad-request`, `too-many-connections`. */
  readonly refused: Readonly<Record<string, number>>;
}

const DEFAULT_LIMITS = {
  bodyBytes: 1024 * 1024,
  headerBytes: 16 * 1024,
  connections: 4_096,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 5_000,
  socketTimeoutMs: 120_000,
} satisfies Required<HttpLimits>;

/** fastify's error codes as a client reads them. */
const CLIENT_CODES: Readonly<Record<string, string>> = {
  FST_ERR_BAD_URL: 'BAD_URL',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_CONTENT_LENGTH',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
};

function clientCode(error: { code?: string; name?: string }): string {
  if (error.code !== undefined && Object.hasOwn(CLIENT_CODES, error.code)) return CLIENT_CODES[error.code] as string;
  if (error.name === 'SyntaxError') return 'INVALID_JSON';
  return 'BAD_REQUEST';
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * An HTTP front for a service, on fastify: routes checked by zod schemas, failed asks answered
 * with the status their error code calls for ({@link httpStatusOf}), JSON errors for bad URLs,
 * bodies, methods (405 with `Allow`) and unknown paths, limits on bodies, heads, connections and
 * slow clients, counters for all of it, and a `close` that is a drain's first step.
 *
 * @example
 * ```ts
 * const front = createHttpFront({ name: 'kv', log, metrics });
 * front.app.get('/kv/:key', { schema: { params: z.object({ key: z.string() }) } }, (req) => store.ask('get', { key: req.params.key }));
 * await front.listen({ port: config.port, host: config.host });
 * return front.close; // from defineService's start
 * ```
 */
export function createHttpFront(options: HttpFrontOptions): HttpFront {
  checkKeys('createHttpFront', options, {
    name: true,
    log: true,
    metrics: true,
    rejected: true,
    closeGraceMs: true,
    limits: {
      bodyBytes: true,
      headerBytes: true,
      connections: true,
      headersTimeoutMs: true,
      requestTimeoutMs: true,
      idleTimeoutMs: true,
      socketTimeoutMs: true,
    },
  });
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value <= 0) throw new InvalidArgument(`createHttpFront: limits.${key} must be a positive integer, got ${value}`);
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs)
    throw new InvalidArgument('createHttpFront: limits.headersTimeoutMs must not exceed limits.requestTimeoutMs');
  const { name, log } = options;
  const rejected = options.rejected ?? {};
  const closeGraceMs = options.closeGraceMs ?? 1_000;
  if (!(closeGraceMs >= 0) || !Number.isFinite(closeGraceMs))
    throw new InvalidArgument(`createHttpFront: closeGraceMs must be a finite number >= 0, got ${closeGraceMs}`);

  const checkEveryMs = Math.max(100, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4)));
  const app = Fastify({
    logger: false,
    bodyLimit: limits.bodyBytes,
    keepAliveTimeout: limits.idleTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.socketTimeoutMs,
    // Our own onRequest hook answers while closing (503, SHUTTING_DOWN, Connection: close), from the
    // grace through fastify's own close: one answer, counted like every other.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    http: {
      maxHeaderSize: limits.headerBytes,
      headersTimeout: limits.headersTimeoutMs,
      // How often Node checks the two timeouts above (its default, 30 s, would let them run late).
      connectionsCheckingInterval: checkEveryMs,
    },
    routerOptions: { maxParamLength: 1_024 },
    // A URL that cannot be decoded, or a content type nothing parses: answered like every other error.
    frameworkErrors: (error, _req, reply) => {
      void (reply as FastifyReply).code(error.statusCode ?? 400).send({ error: clientCode(error), message: error.message });
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.server.maxConnections = limits.connections;

  // ---- counters
  let received = 0;
  let answered = 0;
  let unavailable = 0;
  const refused: Record<string, number> = {};
  const requests = options.metrics?.counter({
    name: 'holdfast_http_requests_total',
    help: 'Requests answered by an HTTP front, by front, method, route and status',
    labelNames: ['front', 'method', 'route', 'status'],
  });
  const durations = options.metrics?.histogram({
    name: 'holdfast_http_request_duration_seconds',
    help: 'How long requests took to answer, by front and route',
    labelNames: ['front', 'route'],
    buckets: [0.000_5, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
  });
  const refusals = options.metrics?.counter({
    name: 'holdfast_http_refused_total',
    help: 'Requests and connections an HTTP front refused past its limits, by front and reason',
    labelNames: ['front', 'reason'],
  });
  let connections = 0;
  app.server.on('connection', (socket: import('node:net').Socket) => {
    connections++;
    socket.once('close', () => connections--);
    // Node times out a request's head only once its first byte came: a connection that sends
    // nothing at all must send its first request's head within the headers timeout too.
    // (A little later than Node's own check, which answers a head that started but did not end with 408.)
    socket.setTimeout(limits.headersTimeoutMs + 2 * checkEveryMs);
    socket.once('timeout', () => {
      if (!requested.has(socket) && socket.bytesRead === 0) refuse('timeout');
    });
  });
  const requested = new WeakSet<object>();
  app.server.on('request', (req) => {
    requested.add(req.socket);
    req.socket.setTimeout(limits.socketTimeoutMs);
  });
  options.metrics?.gauge({
    name: `holdfast_http_${name.replace(/[^A-Za-z0-9_]/g, '_')}_connections`,
    help: `Open connections of the HTTP front '${name}'`,
    collect: () => connections,
  });
  const refuse = (reason: string) => {
    refused[reason] = (refused[reason] ?? 0) + 1;
    refusals?.labels({ front: name, reason }).inc();
  };

  // ---- 404 and 405: a mirror of the routes tells which methods a path has
  const mirror = FindMyWay({ ignoreTrailingSlash: false });
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const m of methods) if (!mirror.hasRoute(m as never, route.url)) mirror.on(m as never, route.url, () => {});
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] as string;
    const allowed = METHODS.filter((m) => mirror.find(m, path) !== null);
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send({ error: 'METHOD_NOT_ALLOWED', message: `${req.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}` });
    }
    return reply.code(404).send({ error: 'NOT_FOUND', message: `no route for ${req.method} ${path}` });
  });

  // ---- errors: Holdfast's codes, zod's issues, fastify's own (bad URL, body too large, …)
  app.setErrorHandler((error: FastifyError & { validationContext?: string; issues?: unknown }, req, reply) => {
    if (isHoldfastError(error) || !(error instanceof Error)) {
      const failure = httpStatusOf(error, rejected);
      if (failure.internal) log.error({ err: error, method: req.method, url: req.url, front: name }, 'request failed');
      return reply.code(failure.status).headers(failure.headers).send(failure.body);
    }
    if (error.name === 'ZodError' && error.validationContext !== undefined) {
      const issues = (error.issues as Array<{ path: PropertyKey[] }>).map((i) => ({ ...i, path: [error.validationContext as string, ...i.path] }));
      return reply.code(400).send({ error: 'INVALID_REQUEST', message: `invalid ${error.validationContext}`, issues });
    }
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status === 413) {
      refuse('body-too-large');
      // The client may still be sending: close gently, or the unread bytes turn the close into a
      // reset that can destroy the 413 before the client reads it.
      lingerOnClose(req.raw.socket);
      reply.header('connection', 'close');
    }
    if (status >= 500) {
      log.error({ err: error, method: req.method, url: req.url, front: name }, 'request failed');
      return reply.code(500).send({ error: 'INTERNAL', message: 'the request failed' });
    }
    return reply.code(status).send({ error: clientCode(error), message: error.message });
  });

  // ---- closing: new requests get 503 and close their connection
  let closing = false;
  let closed: Promise<void> = Promise.resolve();
  app.addHook('onRequest', (_req, reply, done) => {
    if (!closing) return done();
    unavailable++;
    // Connection: close on the 503 only: an answer to a request in flight keeps its connection,
    // so that a request pipelined behind it still gets its own (503) answer.
    reply.code(503).header('connection', 'close').send({ error: 'SHUTTING_DOWN', message: 'unavailable: the service is shutting down' });
  });
  app.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done) => {
    answered++;
    const route = req.routeOptions.url ?? 'unmatched';
    requests?.labels({ front: name, method: req.method, route, status: reply.statusCode }).inc();
    durations?.labels({ front: name, route }).observe(reply.elapsedTime / 1000);
    done();
  });
  app.server.on('request', () => {
    received++;
  });
  app.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // What comes after a refused body (the rest of it, cut short) is not a request of its own.
    if (lingeringSockets.has(socket)) return;
    if (err.code === 'HPE_HEADER_OVERFLOW') refuse('headers-too-large');
    else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') refuse('timeout');
    else if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') refuse('bad-request');
  });
  app.server.on('drop', () => refuse('too-many-connections'));

  return {
    app,
    async listen({ port, host }) {
      await app.listen({ port, host });
      const addr = app.server.address() as AddressInfo;
      const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      return `http://${shown}:${addr.port}`;
    },
    close: async () => {
      if (closing) return closed;
      closing = true;
      closed = (async () => {
        const until = performance.now() + closeGraceMs;
        while (connections > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
        await app.close();
        log.info({ front: name, received, answered, unavailable, refused }, 'front closed');
      })();
      return closed;
    },
    stats: () => ({ received, answered, unavailable, refused: { ...refused } }),
  };
}

/** Connections closed on a client that was still sending (see {@link lingerOnClose}). */
const lingeringSockets = new WeakSet<Socket>();

/** How long, and how many bytes, a connection closed on a client still sending is read and dropped (nginx's lingering close). */
const LINGER_MS = 1_000;
const LINGER_BYTES = 8 * 1024 * 1024;

/**
 * When the server destroys `socket` next (after the response), half-close it instead and read and
 * drop what the client still sends, for at most {@link LINGER_MS} or {@link LINGER_BYTES}: a close
 * with unread data is a TCP reset, which can discard the response in the client's buffers.
 */
function lingerOnClose(socket: Socket): void {
  lingeringSockets.add(socket);
  const destroy = socket.destroy;
  let lingering = false;
  socket.destroy = function lingeringDestroy(this: Socket, error?: Error): Socket {
    if (lingering || error !== undefined || socket.destroyed) return destroy.call(socket, error);
    lingering = true;
    if (!socket.writableEnded) socket.end();
    let read = 0;
    const done = () => {
      clearTimeout(timer);
      destroy.call(socket);
    };
    const timer = setTimeout(done, LINGER_MS);
    timer.unref();
    socket.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > LINGER_BYTES) done();
    });
    socket.once('end', done);
    socket.resume();
    return socket;
  };
}
