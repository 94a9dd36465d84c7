// Every example service against hostile clients: malformed URLs and targets, garbage, smuggling,
// huge and endless bodies, aborted uploads, bad JSON, slow clients, thousands of idle connections,
// over-long lines and catastrophic patterns. After each, the process is up, a well-behaved request
// is served as before, and the memory the attack could take is bounded.
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { idleConnections, type RawResult, request, sendBig, sendRaw, trickle } from '../src/hostile.js';
import { appDir, freshStore, type RunningService, rss, startService, until } from '../src/service.js';

const running: RunningService[] = [];
afterAll(async () => {
  for (const s of running) {
    s.child.kill('SIGTERM');
    await s.exited;
  }
});

async function start(app: string, args: string[], env: Record<string, string> = {}): Promise<RunningService> {
  const s = await startService(appDir(app), ['--config', 'port=0', ...args], env);
  running.push(s);
  return s;
}

/** The error code of a JSON answer. */
const code = (r: RawResult) => (JSON.parse(r.body) as { error: string }).error;

const MB = 1024 * 1024;

/** What every HTTP front must survive, with the answer each gets. */
async function commonAttacks(front: string, alive: () => Promise<void>, bodyRoute: { method: string; path: string } | null): Promise<void> {
  const cases: Array<[string, () => Promise<RawResult>, (r: RawResult) => void]> = [
    ['a malformed escape in a parameter', () => sendRaw(front, request('GET', '/kv/%')), (r) => expect([400, 404]).toContain(r.status)],
    ['a truncated escape', () => sendRaw(front, request('GET', '/kv/%E0%A4%A')), (r) => expect([400, 404]).toContain(r.status)],
    ['a bare %', () => sendRaw(front, request('GET', '/%')), (r) => expect([400, 404]).toContain(r.status)],
    ['the target //[', () => sendRaw(front, request('GET', '//[')), (r) => expect([r.status, code(r)]).toEqual([404, 'NOT_FOUND'])],
    // HTTP/1.1 servers must accept the absolute form: it is served like its path, or refused; never a 5xx.
    ['an absolute-form target', () => sendRaw(front, request('GET', 'http://evil.example/')), (r) => expect(r.status).toBeLessThan(500)],
    ['an asterisk target', () => sendRaw(front, request('GET', '*')), (r) => expect(r.status).toBeLessThan(500)],
    ['a 20 KB target', () => sendRaw(front, request('GET', `/${'a'.repeat(20_000)}`)), (r) => expect(r.status).toBe(431)],
    ['a 20 KB header', () => sendRaw(front, request('GET', '/', { 'X-Big': 'b'.repeat(20_000) })), (r) => expect(r.status).toBe(431)],
    ['binary garbage', () => sendRaw(front, Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 13, 10])), (r) => expect(r.status).toBe(400)],
    ['an unknown HTTP version', () => sendRaw(front, 'GET / HTTP/9.9\r\nHost: x\r\n\r\n'), (r) => expect(r.status).toBeGreaterThanOrEqual(400)],
    [
      'Content-Length with Transfer-Encoding (smuggling)',
      () => sendRaw(front, request('POST', '/', { 'Content-Length': 5, 'Transfer-Encoding': 'chunked' }, '0\r\n\r\n')),
      (r) => expect(r.status).toBe(400),
    ],
  ];
  if (bodyRoute !== null) {
    const { method, path } = bodyRoute;
    const type = { 'Content-Type': 'application/json' };
    cases.push(
      [
        'a body declared at 600 MB',
        () => sendRaw(front, request(method, path, { ...type, 'Content-Length': 600 * MB })),
        (r) => expect([r.status, code(r)]).toEqual([413, 'BODY_TOO_LARGE']),
      ],
      [
        'a chunked body of 600 MB',
        () => sendBig(front, request(method, path, { ...type, 'Transfer-Encoding': 'chunked' }), 600 * MB, true),
        (r) => expect([r.status, code(r)]).toEqual([413, 'BODY_TOO_LARGE']),
      ],
      [
        'an upload cut off half-way',
        () => sendRaw(front, request(method, path, { ...type, 'Content-Length': 30_000 }, 'x'.repeat(10_000)), 300),
        (r) => expect(r.status).toBe(0),
      ],
      [
        'a bad chunk size',
        () => sendRaw(front, request(method, path, { ...type, 'Transfer-Encoding': 'chunked' }, 'zz\r\nabc\r\n0\r\n\r\n')),
        (r) => expect(r.status).toBe(400),
      ],
    );
  }
  for (const [name, attack, check] of cases) {
    const r = await attack();
    try {
      check(r);
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message} (got ${r.status} ${r.body.slice(0, 200)})`);
    }
    await alive().catch((e: Error) => {
      throw new Error(`after ${name}: ${e.message}`);
    });
  }
}

describe('kv against hostile clients', () => {
  it('survives every malformed, oversized, aborted and slow request, and thousands of idle connections, with memory bounded', async () => {
    const s = await start('kv', [
      '--config',
      'requestTimeoutMs=3000',
      '--config',
      'idleTimeoutMs=500',
      '--config',
      'maxConnections=3000',
      ...freshStore('kv').args,
    ]);
    const pid = s.child.pid as number;
    const alive = async () => {
      expect(s.child.exitCode).toBeNull();
      const r = await fetch(`${s.front}/kv/probe`, { method: 'PUT', body: 'ok' });
      expect(r.status).toBe(200);
    };
    await alive();
    const baseline = rss(pid);

    await commonAttacks(s.front, alive, { method: 'PUT', path: '/kv/x' });
    // kv's own: values and numbers out of bounds, a client that disconnects mid-body.
    const tooLong = await sendRaw(s.front, request('PUT', '/kv/x', {}, 'v'.repeat(300_000)));
    expect([tooLong.status, code(tooLong)]).toEqual([413, 'BODY_TOO_LARGE']);
    const manyChars = await sendRaw(s.front, request('PUT', '/kv/x', {}, '€'.repeat(70_000)));
    expect([manyChars.status, code(manyChars)]).toEqual([400, 'INVALID_REQUEST']);
    for (const by of ['1e309', '99999999999999999999', 'NaN', '-', '1.5']) {
      const r = await sendRaw(s.front, request('POST', `/kv/n/incr?by=${by}`));
      expect([by, r.status]).toEqual([by, 400]);
    }
    const longKey = await sendRaw(s.front, request('GET', `/kv/${'k'.repeat(300)}`));
    expect([longKey.status, code(longKey)]).toEqual([400, 'INVALID_REQUEST']);

    // A slow client: one byte every 100 ms; the head must arrive within 3 s.
    const slow = await trickle(s.front, request('GET', '/kv/probe', { 'X-Slow': 'a'.repeat(40) }), 100, 12_000);
    expect(slow.status).toBe(408);
    await alive();

    // 2,000 idle connections: others are still served, memory stays bounded, and the server closes them.
    const gauge = async () => Number(/^holdfast_http_kv_connections\{service="kv"\} (\d+)/m.exec(await (await fetch(`${s.admin}/metrics`)).text())?.[1]);
    const idle = await idleConnections(s.front, 2_000);
    let most = 0;
    await until(async () => {
      most = Math.max(most, await gauge());
      return most >= 1_900;
    }, 'the server holding the idle connections');
    await alive();
    expect(rss(pid) - baseline).toBeLessThan(100 * MB);
    // None sent a request's head within 3 s: the server closed every one it had taken.
    await until(async () => (await gauge()) <= 1, 'the idle connections closed by the server', 30_000);
    expect(idle.filter((c) => c.destroyed || c.readableEnded).length).toBeGreaterThanOrEqual(1_900);
    for (const c of idle) c.destroy();
    await alive();

    expect(rss(pid) - baseline).toBeLessThan(100 * MB);
    const metrics = await (await fetch(`${s.admin}/metrics`)).text();
    const refused = (reason: string) =>
      Number(new RegExp(`holdfast_http_refused_total\\{front="kv",reason="${reason}",service="kv"\\} (\\d+)`).exec(metrics)?.[1]);
    expect(refused('body-too-large')).toBe(3);
    expect(refused('headers-too-large')).toBe(2);
    expect(refused('timeout')).toBeGreaterThanOrEqual(1);
    // The process defaults are there too.
    expect(metrics).toMatch(/^process_resident_memory_bytes\{service="kv"\} \d+/m);
    expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds\{service="kv"\} /m);
    expect(metrics).toMatch(/^process_open_fds\{service="kv"\} \d+/m);
  });
});

describe('showcase, digest and membership against hostile clients', () => {
  it('showcase: survives the common attacks; bad query values are refused with their issues', async () => {
    const s = await start('showcase', []);
    const alive = async () => {
      expect(s.child.exitCode).toBeNull();
      expect((await fetch(`${s.front}/accounts/alice`)).status).toBe(200);
    };
    await commonAttacks(s.front, alive, null);
    for (const amount of ['1e309', '-5', 'abc', '99999999999999999999']) {
      const r = await sendRaw(s.front, request('POST', `/transfer?from=alice&to=bob&amount=${amount}`));
      expect([amount, r.status]).toEqual([amount, 400]);
    }
    const long = await sendRaw(s.front, request('GET', `/accounts/${'z'.repeat(100)}`));
    expect([long.status, code(long)]).toEqual([400, 'INVALID_REQUEST']);
    const balances = (await (await fetch(`${s.front}/accounts`)).json()) as Record<string, number>;
    expect(Object.values(balances).reduce((a, b) => a + b, 0)).toBe(3_000);
  });

  it('digest: survives the common attacks on its body route; rounds out of range are refused', async () => {
    const s = await start('digest', []);
    const alive = async () => {
      expect(s.child.exitCode).toBeNull();
      expect((await fetch(`${s.front}/digest?rounds=1`, { method: 'POST', body: 'ok' })).status).toBe(200);
    };
    // Measured once its threads have served: what grows after that is the attacks'.
    await alive();
    const baseline = rss(s.child.pid as number);
    await commonAttacks(s.front, alive, { method: 'POST', path: '/digest?rounds=1' });
    for (const rounds of ['0', '-1', '1e309', '2000001', 'x']) {
      const r = await sendRaw(s.front, request('POST', `/digest?rounds=${rounds}`, {}, 'x'));
      expect([rounds, r.status]).toEqual([rounds, 400]);
    }
    expect(rss(s.child.pid as number) - baseline).toBeLessThan(100 * MB);
  });

  it('membership: gossip that is not a list of entries (null, wrong types, huge) is refused and changes nothing', async () => {
    const s = await start('membership', ['--config', 'gossipMs=100000']);
    const members = async () => (await (await fetch(`${s.front}/members`)).json()) as Array<{ id: string }>;
    const before = await members();
    const alive = async () => {
      expect(s.child.exitCode).toBeNull();
      expect(await members()).toEqual(before);
    };
    await commonAttacks(s.front, alive, { method: 'POST', path: '/gossip' });
    const gossip = (body: string) => sendRaw(s.front, request('POST', '/gossip', { 'Content-Type': 'application/json' }, body));
    for (const body of ['null', '[]', '"x"', '{"entries":null}', '{"entries":[null]}', '{"entries":[{"id":5}]}', '{"entries":', `${'['.repeat(100_000)}`]) {
      const r = await gossip(body);
      expect([body.slice(0, 20), r.status]).toEqual([body.slice(0, 20), 400]);
      await alive();
    }
    const tooMany = await gossip(
      JSON.stringify({ entries: Array.from({ length: 10_001 }, (_, i) => ({ id: `h:${i}`, generation: 1, heartbeat: 1, status: 'alive' })) }),
    );
    expect(tooMany.status).toBe(400);
    const proto = await gossip('{"entries":[],"__proto__":{"polluted":true}}');
    expect(proto.status).toBe(400);
    await alive();
  });
});

describe('relay against hostile clients', () => {
  /** Write `lines` to the ingest on one connection and close it. */
  const ingestSend = (address: string, data: Buffer | string) =>
    new Promise<void>((resolve) => {
      const [host, port] = address.split(':') as [string, string];
      const s = net.connect(Number(port), host);
      s.on('error', () => resolve());
      s.end(data, () => resolve());
    });

  it('drops over-long lines whole with bounded memory, runs catastrophic patterns in linear time, caps ingest connections', async () => {
    const s = await start('relay', ['--config', 'ingestPort=0', '--config', 'maxIngestConnections=50', '--config', 'flushMs=100000']);
    const ingest = s.logs.find((l) => l.msg?.toString().startsWith('relay listening'))?.ingest as string;
    const pid = s.child.pid as number;
    const stats = async () => (await (await fetch(`${s.front}/stats`)).json()) as { accepted: number; invalid: number; dropped: Record<string, number> };
    const alive = async () => {
      expect(s.child.exitCode).toBeNull();
      expect((await fetch(`${s.front}/routes`)).status).toBe(200);
    };
    await commonAttacks(s.front, alive, { method: 'POST', path: '/routes' });
    const baseline = rss(pid);

    // A 50 MB line in 64 KB writes, then a good line: the long one is dropped whole, the next taken.
    await new Promise<void>((resolve) => {
      const [host, port] = ingest.split(':') as [string, string];
      const sock = net.connect(Number(port), host);
      sock.on('error', () => resolve());
      sock.once('connect', async () => {
        const chunk = Buffer.alloc(64 * 1024, 'a');
        for (let i = 0; i < 800; i++) if (!sock.write(chunk)) await new Promise((r) => sock.once('drain', r));
        sock.end(`\nservers.a.cpu 1 ${Math.floor(Date.now() / 1000)}\n`, () => resolve());
      });
    });
    await until(async () => (await stats()).accepted === 1, 'the good line');
    expect((await stats()).dropped).toMatchObject({ 'too-long': 1 });
    expect(rss(pid) - baseline).toBeLessThan(100 * MB);
    await alive();

    // Garbage and binary lines are counted invalid, not fatal.
    await ingestSend(ingest, Buffer.concat([Buffer.from([0, 255, 1, 10]), Buffer.from('not a metric\n\r\n\n')]));
    await until(async () => (await stats()).invalid === 2, 'the invalid lines');

    // The pattern that blocked the process for 19 s with a backtracking engine, against a 4 KB path.
    const add = await fetch(`${s.front}/routes`, {
      method: 'POST',
      body: JSON.stringify({ name: 'evil', match: { kind: 'regex', pattern: '^(a+)+$' }, destinations: ['127.0.0.1:9'] }),
    });
    expect(add.status).toBe(201);
    const refusedPattern = await fetch(`${s.front}/routes`, {
      method: 'POST',
      body: JSON.stringify({ name: 'backref', match: { kind: 'regex', pattern: '(a)\\1' }, destinations: ['127.0.0.1:9'] }),
    });
    expect(refusedPattern.status).toBe(400);
    await ingestSend(ingest, `${'a'.repeat(4_000)}b 1 ${Math.floor(Date.now() / 1000)}\n`);
    // Accepted counts every line read (the two invalid ones too).
    await until(async () => (await stats()).accepted === 4, 'the line with the long path');
    await alive();

    // 60 connections where 50 are allowed: 10 refused and counted; the service goes on.
    const conns = await idleConnections(`http://${ingest}`, 60);
    await until(async () => (await stats()).dropped['too-many-connections'] === 10, 'the refused connections');
    for (const c of conns) c.destroy();
    await alive();
    const metrics = await (await fetch(`${s.admin}/metrics`)).text();
    expect(metrics).toContain('relay_dropped_lines_total{reason="too-long",service="relay"} 1');
    expect(metrics).toContain('relay_lines_total{outcome="invalid",service="relay"} 2');
  });

  it('refuses to serve its route API off loopback without a token, and asks for the token when it has one', async () => {
    const off = startService(appDir('relay'), ['--config', 'port=0', '--config', 'ingestPort=0', '--config', 'host=0.0.0.0']);
    await expect(off).rejects.toThrow(/the route API would listen on 0\.0\.0\.0 without a token/);
    const token = 'relay-token-0123456789';
    const s = await start('relay', ['--config', 'ingestPort=0'], { RELAY_API_TOKEN: token });
    const none = await fetch(`${s.front}/routes`);
    expect([none.status, none.headers.get('www-authenticate'), ((await none.json()) as { error: string }).error]).toEqual([401, 'Bearer', 'UNAUTHORIZED']);
    expect((await fetch(`${s.front}/routes`, { headers: { authorization: 'Bearer wrong-token-000000000' } })).status).toBe(401);
    expect((await fetch(`${s.front}/routes`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });
});
