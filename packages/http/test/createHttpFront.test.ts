import net from 'node:net';
import { createSystem, defineActor, defineProtocol, type Logger, reject } from '@holdfast/core';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHttpFront, type HttpFront, httpStatusOf } from '../src/index.js';

/** A logger that keeps what was logged at error level. */
function recordingLog(): Logger & { errors: string[] } {
  const errors: string[] = [];
  const log = {
    errors,
    trace() {},
    debug() {},
    info() {},
    warn() {},
    error(_o: unknown, msg?: string) {
      errors.push(msg ?? '');
    },
    fatal() {},
    child: () => log,
  };
  return log as unknown as Logger & { errors: string[] };
}

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The connection was closed by the server (FIN) after the answers. */
  closed: boolean;
}

/** Send `text` as it is over one TCP connection; collect what comes back within `waitMs`. */
function raw(url: string, text: string | Buffer, waitMs = 300): Promise<RawAnswer> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let out = '';
    let closed = false;
    const complete = () => {
      const at = out.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(out.slice(0, at));
      return at >= 0 && length !== null && Buffer.byteLength(out.slice(at + 4)) >= Number(length[1]);
    };
    socket.on('data', (d) => {
      out += d;
      if (complete()) setTimeout(finish, 20); // a little longer: to see whether the server closes
    });
    socket.on('error', () => {});
    socket.on('end', () => {
      closed = true;
    });
    socket.write(text);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      socket.destroy();
      const [head = '', body = ''] = out.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1] ?? 0), headers, body, closed });
    };
    socket.on('close', finish);
    setTimeout(finish, waitMs);
  });
}

const P = defineProtocol('store', {
  get: { input: z.object({ key: z.string() }), reply: z.string().nullable() },
  put: { input: z.object({ key: z.string(), value: z.string().max(10) }), reply: z.number() },
  fail: { input: z.object({ how: z.enum(['reject', 'crash', 'gone', 'slow']) }), reply: z.null() },
});

const Store = defineActor(P, {
  init: () => new Map<string, string>(),
  handlers: {
    get: (s, { key }) => s.get(key) ?? null,
    put(s, { key, value }) {
      s.set(key, value);
      return s.size;
    },
    async fail(_s, { how }) {
      if (how === 'reject') reject('NO_SUCH_THING', { key: 'x' });
      if (how === 'gone') reject('GONE', {});
      if (how === 'slow') await new Promise((r) => setTimeout(r, 400));
      if (how === 'crash') throw new Error('boom');
      return null;
    },
  },
});

let front: HttpFront | null = null;
afterEach(async () => {
  await front?.close();
  front = null;
});

async function start(limits: Parameters<typeof createHttpFront>[0]['limits'] = {}) {
  const system = createSystem({ name: 'http-test' });
  const store = system.spawn(Store, { id: 'store', askTimeoutMs: 200 });
  const log = recordingLog();
  front = createHttpFront({ name: 'test', log, limits, rejected: { GONE: 410 }, closeGraceMs: 200 });
  const f = front;
  f.app.get('/kv/:key', { schema: { params: z.object({ key: z.string().max(8) }) } }, (req) => store.ask('get', { key: req.params.key }));
  f.app.put('/kv/:key', { schema: { params: z.object({ key: z.string() }), body: z.object({ value: z.string() }) } }, (req) =>
    store.ask('put', { key: req.params.key, value: req.body.value }),
  );
  f.app.post('/fail', { schema: { querystring: z.object({ how: z.string() }) } }, (req) => store.ask('fail', { how: req.query.how as never }));
  f.app.get('/slow', { schema: { querystring: z.object({ ms: z.coerce.number().int().max(2_000) }) } }, async (req) => {
    await new Promise((r) => setTimeout(r, req.query.ms));
    return { slept: req.query.ms };
  });
  const url = await f.listen({ port: 0, host: '127.0.0.1' });
  return { url, f, log, system };
}

const json = (r: RawAnswer) => JSON.parse(r.body) as Record<string, unknown>;

describe('createHttpFront', () => {
  it('checks params, query and body with zod: 400 with the issues, their path prefixed by the part', async () => {
    const { url } = await start();
    const put = (key: string, body: string) =>
      raw(url, `PUT /kv/${key} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    expect(json(await put('a', '{"value":"v1"}'))).toBe(1);
    const long = await raw(url, 'GET /kv/abcdefghijk HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(long.status).toBe(400);
    expect(json(long)).toMatchObject({ error: 'INVALID_REQUEST', issues: [{ path: ['params', 'key'], code: 'too_big' }] });
    for (const body of ['null', '[]', '{"value":3}', '"x"', '{"value":"a","__proto__":{"polluted":true}}']) {
      const r = await put('a', body);
      expect(r.status, body).toBe(400);
    }
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    // The actor's own schema is checked too: INVALID_MESSAGE with its issues, nothing stored.
    const tooLong = await put('b', '{"value":"far too long for it"}');
    expect(tooLong.status).toBe(400);
    expect(json(tooLong)).toMatchObject({ error: 'INVALID_MESSAGE', issues: [{ path: ['value'] }] });
    expect(json(await raw(url, 'GET /kv/b HTTP/1.1\r\nHost: x\r\n\r\n'))).toBeNull();
  });

  it('answers failed asks with the status their code calls for, and logs only real failures', async () => {
    const { url, log } = await start();
    const fail = (how: string) => raw(url, `POST /fail?how=${how} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`, 1_000);
    const rejected = await fail('reject');
    expect([rejected.status, json(rejected)]).toEqual([409, { error: 'NO_SUCH_THING', message: 'rejected: NO_SUCH_THING', details: { key: 'x' } }]);
    expect((await fail('gone')).status).toBe(410);
    const crashed = await fail('crash');
    expect([crashed.status, json(crashed)]).toEqual([500, { error: 'ACTOR_CRASHED', message: 'the request failed' }]);
    const timedOut = await fail('slow');
    expect([timedOut.status, json(timedOut).error]).toEqual([504, 'ASK_TIMEOUT']);
    const invalid = await fail('sideways');
    expect([invalid.status, json(invalid).error]).toEqual([400, 'INVALID_MESSAGE']);
    expect(log.errors).toEqual(['request failed']);
  });

  it('maps every Holdfast code the same way for fronts of any kind', () => {
    const codes = Object.fromEntries(
      ['MAILBOX_FULL', 'WORKER_LOST', 'ACTOR_STOPPED', 'SHUTTING_DOWN', 'ACTOR_NOT_FOUND', 'DEADLOCK'].map((code) => {
        const e = Object.assign(new Error(code), { code, details: {}, [Symbol.for('holdfast.error')]: true });
        const f = httpStatusOf(e);
        return [code, [f.status, f.headers]];
      }),
    );
    expect(codes).toEqual({
      MAILBOX_FULL: [503, { 'retry-after': '1' }],
      WORKER_LOST: [503, { 'retry-after': '1' }],
      ACTOR_STOPPED: [503, { 'retry-after': '1' }],
      SHUTTING_DOWN: [503, { connection: 'close' }],
      ACTOR_NOT_FOUND: [404, {}],
      DEADLOCK: [500, {}],
    });
    expect(httpStatusOf(new TypeError('x')).status).toBe(500);
  });

  it('refuses bad URLs, unknown paths and methods with JSON answers (405 names the allowed methods)', async () => {
    const { url } = await start();
    const bad = await raw(url, 'GET /kv/% HTTP/1.1\r\nHost: x\r\n\r\n');
    expect([bad.status, json(bad).error]).toEqual([400, 'BAD_URL']);
    const target = await raw(url, 'GET //[ HTTP/1.1\r\nHost: x\r\n\r\n');
    expect([target.status, json(target).error]).toEqual([404, 'NOT_FOUND']);
    const method = await raw(url, 'DELETE /kv/a HTTP/1.1\r\nHost: x\r\n\r\n');
    expect([method.status, method.headers.allow, json(method).error]).toEqual([405, 'GET, HEAD, PUT', 'METHOD_NOT_ALLOWED']);
    const garbage = await raw(url, 'HELLO\r\n\r\n');
    expect(garbage.status).toBe(400);
  });

  it('refuses a body past the limit with 413, without reading it all, and counts it', async () => {
    const { url, f } = await start({ bodyBytes: 1_000 });
    const declared = await raw(url, 'PUT /kv/a HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n{"value":');
    expect([declared.status, json(declared).error]).toEqual([413, 'BODY_TOO_LARGE']);
    const chunk = `${(4096).toString(16)}\r\n${'x'.repeat(4096)}\r\n`;
    const chunked = await raw(url, `PUT /kv/a HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}`);
    expect(chunked.status).toBe(413);
    expect(f.stats().refused).toEqual({ 'body-too-large': 2 });
  });

  it('closes slow clients: a head that does not arrive in time gets 408, an oversized head 431; both counted', async () => {
    const { url, f } = await start({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const slow = await raw(url, 'GET /kv/a HTTP/1.1\r\nHost: x\r\n', 2_000);
    expect(slow.status).toBe(408);
    const big = await raw(url, `GET /kv/a HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big.status).toBe(431);
    expect(f.stats().refused).toEqual({ timeout: 1, 'headers-too-large': 1 });
  });

  it('takes no more connections than its limit: the rest are closed at once and counted, the others still served', async () => {
    const { url, f } = await start({ connections: 20 });
    const { port } = new URL(url);
    const idle: net.Socket[] = [];
    for (let i = 0; i < 30; i++) {
      const s = net.connect(Number(port), '127.0.0.1');
      s.on('error', () => {});
      idle.push(s);
      await new Promise((r) => s.once('connect', r));
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(f.stats().refused['too-many-connections']).toBe(10);
    for (const s of idle.slice(0, 20)) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect((await raw(url, 'GET /kv/a HTTP/1.1\r\nHost: x\r\n\r\n')).status).toBe(200);
    for (const s of idle) s.destroy();
  });

  it('close(): requests in flight get their answer, new ones on open connections 503 with Connection: close; every request read is answered', async () => {
    const { url, f } = await start();
    const { port } = new URL(url);
    // `ended` settles when the server has closed the connection, so every byte it wrote is read.
    const open = (): Promise<{ socket: net.Socket; out: () => string; ended: Promise<void> }> =>
      new Promise((resolve) => {
        const socket = net.connect(Number(port), '127.0.0.1');
        let out = '';
        socket.on('data', (d) => {
          out += d;
        });
        socket.on('error', () => {});
        const ended = new Promise<void>((r) => socket.once('close', () => r()));
        socket.once('connect', () => resolve({ socket, out: () => out, ended }));
      });
    const inFlight = await open();
    inFlight.socket.write('GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n');
    const keepAlive = await open();
    keepAlive.socket.write('GET /kv/a HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    expect(keepAlive.out()).toMatch(/^HTTP\/1\.1 200 /);
    const closed = f.close();
    keepAlive.socket.write('GET /kv/a HTTP/1.1\r\nHost: x\r\n\r\n');
    await closed;
    await Promise.all([inFlight.ended, keepAlive.ended]);
    expect(inFlight.out()).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*\{"slept":300\}$/);
    const second = keepAlive.out().split('HTTP/1.1 ')[2] as string;
    expect(second).toMatch(/^503 /);
    expect(second.toLowerCase()).toContain('connection: close');
    expect(second).toContain('"error":"SHUTTING_DOWN"');
    expect(f.stats()).toMatchObject({ received: 3, answered: 3, unavailable: 1 });
    front = null;
  });
});
