import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { appDir, startService } from '../../src/service.js';

const app = appDir('relay');

/** A carbon receiver: collects the lines it is sent. */
interface Sink {
  readonly address: string;
  readonly lines: string[];
  /** Connections that were opened, and those the relay has ended. */
  readonly opened: () => number;
  readonly ended: () => number;
  close(): Promise<void>;
}

async function sink(options: { port?: number } = {}): Promise<Sink> {
  const lines: string[] = [];
  const sockets = new Set<net.Socket>();
  let opened = 0;
  let ended = 0;
  const server = net.createServer((socket) => {
    opened++;
    sockets.add(socket);
    let tail = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const parts = (tail + chunk).split('\n');
      tail = parts.pop() as string;
      lines.push(...parts);
    });
    socket.on('end', () => {
      ended++;
      socket.end();
    });
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(options.port ?? 0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    lines,
    opened: () => opened,
    ended: () => ended,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Write `text` over a new TCP connection in uneven chunks (lines cut in the middle), then end it. */
async function sendCarbon(address: string, text: string): Promise<void> {
  const [host, port] = address.split(':') as [string, string];
  const socket = net.connect({ host, port: Number(port) });
  await new Promise<void>((r, j) => socket.once('connect', r).once('error', j));
  for (let at = 0, n = 1; at < text.length; n = (n * 7 + 13) % 997) {
    socket.write(text.slice(at, at + n + 1));
    at += n + 1;
  }
  await new Promise<void>((r) => socket.end(r));
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sorted = (xs: readonly string[]) => [...xs].sort();
const sumOf = (lines: readonly string[], path: string) => lines.filter((l) => l.startsWith(`${path} `)).reduce((a, l) => a + Number(l.split(' ')[1]), 0);

describe('relay service (carbon lines routed by a route-table actor)', () => {
  it('routes lines from concurrent TCP clients to real TCP sinks by prefix, substring and regex, changes routes through its API, flushes per-route counters, holds lines for a receiver that comes back, and loses no accepted line in the drain', async () => {
    const [a, b, c, selfSink, retired] = await Promise.all([sink(), sink(), sink(), sink(), sink()]);
    // The receiver of the drain's lines is down until the drain has begun: its port, free.
    const bulkPort = await new Promise<number>((r) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => r(port));
      });
    });
    let bulk: Sink | null = null;
    let reopened: Sink | null = null;
    const initial = [{ name: 'cpu', match: { kind: 'prefix', pattern: 'servers.cpu.' }, destinations: [a.address] }];
    const { child, front, logs, exited } = await startService(app, [
      '--config',
      'port=0',
      '--config',
      'ingestPort=0',
      '--config',
      'flushMs=100',
      '--config',
      `routes=${JSON.stringify(initial)}`,
    ]);
    try {
      const ingest = logs.find((l) => typeof l.ingest === 'string')?.ingest as string;
      const call = async (method: string, path: string, body?: unknown) => {
        const r = await fetch(`${front}${path}`, { method, ...(body !== undefined && { body: JSON.stringify(body) }) });
        return { status: r.status, body: (await r.json()) as Record<string, unknown> };
      };

      // ---- route changes: each answer says whether it took
      const errors = { name: 'failures', match: { kind: 'substring', pattern: '.errors.' }, destinations: [b.address] };
      expect(await call('POST', '/routes', errors)).toEqual({ status: 201, body: { ok: true, route: { ...errors, lines: 0 } } });
      expect(await call('POST', '/routes', errors)).toEqual({
        status: 409,
        body: { error: 'ROUTE_EXISTS', message: 'rejected: ROUTE_EXISTS', details: { name: 'failures' } },
      });
      const badRegex = await call('POST', '/routes', { name: 'bad', match: { kind: 'regex', pattern: 'app.(' }, destinations: [b.address] });
      expect(badRegex.status).toBe(400);
      expect(badRegex.body).toMatchObject({ error: 'INVALID_MESSAGE' });
      expect((badRegex.body.issues as Array<{ path: unknown[] }>).map((i) => i.path)).toEqual([['route', 'match', 'pattern']]);
      expect((await call('POST', '/routes', { name: 'x', match: { kind: 'glob', pattern: '*' }, destinations: [] })).status).toBe(400);
      expect(await call('POST', '/routes', [])).toMatchObject({ status: 400, body: { error: 'INVALID_REQUEST', issues: [{ path: ['body'] }] } });
      const latency = { name: 'latency', match: { kind: 'regex', pattern: '^app\\.(web|api)\\.latency$' }, destinations: [b.address, c.address] };
      expect((await call('POST', '/routes', latency)).status).toBe(201);
      expect((await call('POST', '/routes', { name: 'self', match: { kind: 'prefix', pattern: 'relay.' }, destinations: [selfSink.address] })).status).toBe(
        201,
      );
      expect(await call('PUT', '/routes/cpu', { match: { kind: 'prefix', pattern: 'servers.cpu.' }, destinations: [a.address, c.address] })).toEqual({
        status: 200,
        body: { ok: true, route: { name: 'cpu', match: { kind: 'prefix', pattern: 'servers.cpu.' }, destinations: [a.address, c.address], lines: 0 } },
      });
      expect(await call('PUT', '/routes/nope', { match: { kind: 'prefix', pattern: 'x' }, destinations: [a.address] })).toEqual({
        status: 404,
        body: { error: 'ROUTE_NOT_FOUND', message: 'rejected: ROUTE_NOT_FOUND', details: { name: 'nope' } },
      });
      expect(await call('DELETE', '/routes/nope')).toEqual({
        status: 404,
        body: { error: 'ROUTE_NOT_FOUND', message: 'rejected: ROUTE_NOT_FOUND', details: { name: 'nope' } },
      });
      expect(((await call('GET', '/routes')).body as unknown as Array<{ name: string }>).map((r) => r.name)).toEqual(['cpu', 'failures', 'latency', 'self']);

      // ---- three concurrent clients; what each sink must get, computed here
      const want = { a: [] as string[], b: [] as string[], c: [] as string[] };
      let cpu = 0;
      let invalid = 0;
      let unmatched = 0;
      const texts = [0, 1, 2].map((client) => {
        const out: string[] = [];
        for (let i = 0; i < 1_500; i++) {
          const ts = 1_700_000_000 + i;
          const kind = i % 6;
          let line: string;
          if (kind === 0 || kind === 1) {
            line = `servers.cpu.h${client}.user ${i} ${ts}`;
            want.a.push(line);
            want.c.push(line);
            cpu++;
          } else if (kind === 2) {
            line = `servers.disk.h${client}.errors.count ${i} ${ts}`;
            want.b.push(line);
          } else if (kind === 3) {
            line = `app.${i % 2 ? 'web' : 'api'}.latency ${i / 10} ${ts}`;
            want.b.push(line);
            want.c.push(line);
          } else if (kind === 4) {
            line = `servers.cpu.h${client}.errors.eio 1 ${ts}`; // cpu and errors both
            want.a.push(line);
            want.c.push(line);
            want.b.push(line);
            cpu++;
          } else if (i % 12 === 5) {
            line = `app.db.latency ${i} ${ts}`;
            unmatched++;
          } else {
            line = ['garbage', 'a.b 1', `a.b x ${ts}`][i % 3] as string;
            invalid++;
          }
          out.push(line);
        }
        return `${out.join(client === 1 ? '\r\n' : '\n')}\n`;
      });
      await Promise.all(texts.map((t) => sendCarbon(ingest, t)));
      await until(
        'every routed line at its sinks',
        () => a.lines.length >= want.a.length && b.lines.length >= want.b.length && c.lines.length >= want.c.length,
      );
      expect(sorted(a.lines)).toEqual(sorted(want.a));
      expect(sorted(b.lines)).toEqual(sorted(want.b));
      expect(sorted(c.lines)).toEqual(sorted(want.c));
      const stats = (await call('GET', '/stats')).body;
      expect(stats).toMatchObject({ accepted: 4_500, invalid, unmatched });
      expect(stats.routes).toMatchObject({ cpu, failures: 3 * 250 * 2, latency: 3 * 250 });
      const dests = stats.destinations as Array<{ address: string; connected: boolean; sent: number; dropped: number }>;
      expect(dests.find((d) => d.address === a.address)).toMatchObject({ connected: true, sent: want.a.length, dropped: 0 });

      // ---- the counters, flushed every 100 ms as carbon lines through the table (route `self`)
      await until('the flushed counters', () => sumOf(selfSink.lines, 'relay.route.cpu.lines') === cpu);
      expect(sumOf(selfSink.lines, 'relay.route.failures.lines')).toBe(3 * 250 * 2);
      expect(sumOf(selfSink.lines, 'relay.route.latency.lines')).toBe(3 * 250);
      expect(sumOf(selfSink.lines, 'relay.invalid')).toBe(invalid);
      expect(sumOf(selfSink.lines, 'relay.unmatched')).toBe(unmatched);
      expect(logs.some((l) => l.msg === 'dropped lines that are not carbon plaintext (path value timestamp)' && typeof l.example === 'string')).toBe(true);

      // ---- removing a route: its lines match nothing now; a destination no route uses is retired
      expect((await call('POST', '/routes', { name: 'temp', match: { kind: 'prefix', pattern: 'temp.' }, destinations: [retired.address] })).status).toBe(201);
      await sendCarbon(ingest, 'temp.a 1 1700000000\ntemp.b 2 1700000000\n');
      await until('the temp lines', () => retired.lines.length === 2);
      expect(await call('DELETE', '/routes/temp')).toEqual({ status: 200, body: { ok: true, removed: 'temp' } });
      await until('the retired destination to end its connection', () => retired.ended() === 1);
      expect(await call('DELETE', '/routes/latency')).toEqual({ status: 200, body: { ok: true, removed: 'latency' } });
      await sendCarbon(ingest, 'app.web.latency 5 1700000001\ntemp.c 3 1700000001\n');
      await until('the unmatched count', async () => ((await call('GET', '/stats')).body.unmatched as number) === unmatched + 2);
      expect(retired.lines).toEqual(['temp.a 1 1700000000', 'temp.b 2 1700000000']);
      expect(b.lines.length).toBe(want.b.length);

      // ---- a receiver that goes away and comes back: the lines sent meanwhile wait, then go out in order
      const port = Number(a.address.split(':')[1]);
      const before = a.lines.length;
      await a.close();
      await until('the relay to see the loss', () => logs.some((l) => l.msg === 'connection lost' && l.destination === a.address));
      const meanwhile = Array.from({ length: 50 }, (_, i) => `servers.cpu.back.${i} ${i} 1700000002`);
      await sendCarbon(ingest, `${meanwhile.join('\n')}\n`);
      await until('the lines to wait for the receiver', async () => {
        const d = ((await call('GET', '/stats')).body.destinations as Array<{ address: string; waiting: number; connected: boolean }>).find(
          (x) => x.address === a.address,
        );
        return d?.waiting === 50 && d.connected === false;
      });
      const a2 = await sink({ port });
      reopened = a2;
      await until('the waiting lines at the receiver', () => a2.lines.length === 50);
      expect(a2.lines).toEqual(meanwhile);
      expect(a.lines.length).toBe(before);
      expect(c.lines.filter((l) => l.startsWith('servers.cpu.back.'))).toEqual(meanwhile); // the other destination of the route never stopped

      // ---- the drain: lines accepted while their receiver is down all reach it once it is up
      const bulkAt = `127.0.0.1:${bulkPort}`;
      expect((await call('POST', '/routes', { name: 'bulk', match: { kind: 'prefix', pattern: 'bulk.' }, destinations: [bulkAt] })).status).toBe(201);
      const n = 100_000;
      const bulkLines = Array.from({ length: n }, (_, i) => `bulk.series.${i % 100} ${i} 1700000000`);
      await sendCarbon(ingest, `${bulkLines.join('\n')}\n`);
      await until('the bulk lines waiting at their destination', async () => {
        const s = (await call('GET', '/stats')).body;
        const d = (s.destinations as Array<{ address: string; waiting: number }>).find((x) => x.address === bulkAt);
        return s.accepted === 4_500 + 4 + 50 + n && d?.waiting === n;
      });
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      bulk = await sink({ port: bulkPort });
      expect(await exited).toBe(0);
      const received = bulk;
      await until('the relay to end its connection', () => received.ended() === 1);
      expect(received.lines).toEqual(bulkLines); // all of them, in order
      expect(logs.at(-1)).toMatchObject({ msg: 'stopped', clean: true, exitCode: 0 });
      expect(logs.filter((l) => l.level === 50 || l.level === 60)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      await Promise.all([a, b, c, selfSink, retired, bulk, reopened].map((s) => s?.close()));
    }
  }, 60_000);
});
