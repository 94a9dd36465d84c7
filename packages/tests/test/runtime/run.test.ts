import { statSync } from 'node:fs';
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { debugClient, FIXTURE, get, getVia, parseMetrics, runCli, type Started, spawnCli, startFixture, until } from '../../src/cli.js';

let running: Started | null = null;
afterEach(() => {
  running?.child.kill('SIGKILL');
  running = null;
});

const pendingAsks = async (s: Started) => parseMetrics((await get(`${s.admin}/metrics`)).body).get('holdfast_pending_asks{service="fixture"}') ?? -1;

describe('holdfast run', () => {
  it('starts the service: /healthz and /readyz answer 200, asks through the front work, /metrics moves with the traffic', async () => {
    const s = (running = await startFixture());
    expect(await get(`${s.admin}/healthz`)).toEqual({ status: 200, body: 'ok\n' });
    expect(await get(`${s.admin}/readyz`)).toEqual({ status: 200, body: 'ready\n' });
    const before = parseMetrics((await get(`${s.admin}/metrics`)).body);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await get(`${s.front}/work`));
    expect(answers).toEqual([1, 2, 3, 4, 5].map((n) => ({ status: 200, body: String(n) })));
    const after = parseMetrics((await get(`${s.admin}/metrics`)).body);
    const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    expect(delta('holdfast_asks_total{service="fixture"}')).toBe(5);
    expect(delta('holdfast_turns_total{service="fixture"}')).toBe(5);
    expect(after.has('holdfast_late_replies_total{service="fixture"}')).toBe(true);
    // The work handler is async: every one of its turns is timed.
    expect(delta('holdfast_turn_duration_seconds_count{service="fixture",type="worker"}')).toBe(5);
    expect(after.get('holdfast_actors{type="worker",service="fixture"}')).toBe(3);
    expect(after.get('holdfast_mailbox_depth{type="worker",service="fixture"}')).toBe(0);
    expect(statSync(s.socket).mode & 0o777).toBe(0o600);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('drains on SIGTERM: accepted requests get their real answers, later ones get 503, /readyz is 503, exit 0; nothing is lost', async () => {
    const s = (running = await startFixture(['--drain-timeout', '8000', '--config', 'workMs=40']));
    // Ten keep-alive connections, open before the signal: the late requests go over them.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
    expect((await Promise.all(Array.from({ length: 10 }, () => getVia(agent, `${s.front}/count`)))).map((r) => r.status)).toEqual(Array(10).fill(200));
    const asked = async () => parseMetrics((await get(`${s.admin}/metrics`)).body).get('holdfast_asks_total{service="fixture"}') ?? 0;
    const before = await asked();
    const accepted = Array.from({ length: 30 }, () => get(`${s.front}/work`));
    // All 30 reached the worker (queued behind one another in its mailbox; on a slow machine the first
    // few may already be answered) before the signal, and most are still waiting when it comes.
    await until(async () => (await asked()) - before === 30, '30 asks admitted');
    expect(await pendingAsks(s)).toBeGreaterThan(20);
    const signalled = Date.now();
    s.child.kill('SIGTERM');
    await until(async () => (await get(`${s.admin}/readyz`)).status === 503, '/readyz 503');
    const late = await Promise.all(Array.from({ length: 10 }, () => getVia(agent, `${s.front}/work`)));
    const answers = await Promise.all(accepted);
    expect(await s.exited).toBe(0);
    // 30 turns of 40 ms: about 1.2 s of work left, well inside the 8 s deadline.
    expect(Date.now() - signalled).toBeLessThan(8_000);
    expect(late).toEqual(
      Array.from({ length: 10 }, () => ({
        status: 503,
        body: '{"error":"SHUTTING_DOWN","message":"unavailable: the service is shutting down"}',
        connection: 'close',
      })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 30 }, () => 200));
    expect(answers.map((a) => Number(a.body)).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // The server side counted the same 30.
    const stopping = s.logs.find((l) => l.msg === 'worker stopping' && l.actor === 'worker');
    expect(stopping).toMatchObject({ handled: 30, reason: 'shutdown' });
    expect(s.logs.at(-1)).toMatchObject({ msg: 'stopped', clean: true, exitCode: 0 });
  });

  it('exits non-zero at the drain deadline when a handler never ends, naming the actor', async () => {
    const s = (running = await startFixture(['--drain-timeout', '500']));
    const stuck = get(`${s.front}/hang`);
    await until(async () => (await pendingAsks(s)) === 1, 'the stuck ask');
    const t = Date.now();
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(1);
    expect(Date.now() - t).toBeLessThan(5_000);
    // The front waited for its request, then the system for the actor: both are named.
    expect(s.logs.filter((l) => l.msg.startsWith('drain deadline passed:')).map((l) => [l.msg, l.level])).toEqual([
      ['drain deadline passed: the front had not closed (requests still open)', 50],
      ['drain deadline passed: unfinished work in stuck', 50],
    ]);
    expect(s.logs.find((l) => l.msg === 'drain deadline passed: unfinished work in stuck')).toMatchObject({
      unfinished: [{ id: 'stuck', type: 'worker', busy: true }],
    });
    // The request the front had read still got an answer: the actor was stopped (503, try again).
    const answer = await stuck;
    expect([answer.status, JSON.parse(answer.body)]).toEqual([503, { error: 'ACTOR_STOPPED', message: 'unavailable: try again shortly' }]);
  });

  it('a second signal during the drain forces the exit', async () => {
    const s = (running = await startFixture(['--drain-timeout', '60000']));
    void get(`${s.front}/hang`).catch(() => {});
    await until(async () => (await pendingAsks(s)) === 1, 'the stuck ask');
    s.child.kill('SIGTERM');
    await until(async () => s.logs.some((l) => l.msg === 'draining'), 'the drain');
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(130);
    expect(s.stderr()).toContain('SIGINT again during the drain: exiting now');
  });

  it('exits non-zero when the root steward gives up (a fatal escalation)', async () => {
    const s = (running = await startFixture());
    // 'fragile' may not restart anything: each crash escalates to the root, which allows 3 within 5 s.
    for (let i = 0; i < 4; i++) await get(`${s.front}/crash`);
    expect(await s.exited).toBe(1);
    expect(s.logs.find((l) => l.msg === 'fatal: the root steward gave up')).toMatchObject({ steward: 'fragile' });
    // Every line from an actor's ctx.log names the actor, its type, its incarnation and the message.
    expect(s.logs.filter((l) => l.msg === 'crashing on request').map((l) => [l.actor, l.type, l.incarnation, l.message, l.level])).toEqual([
      ['crashy', 'worker', 1, 'crash', 40],
      ['crashy', 'worker', 2, 'crash', 40],
      ['crashy', 'worker', 3, 'crash', 40],
      ['crashy', 'worker', 4, 'crash', 40],
    ]);
    expect(s.logs.find((l) => l.msg === 'actor crashed')).toMatchObject({ actor: 'crashy', type: 'worker', message: 'crash', reason: 'threw' });
  });

  it('serves the debug socket: actors, state, ask with validation, tell refused when invalid', async () => {
    const s = (running = await startFixture());
    const c = await debugClient(s.socket);
    const actors = (await c.call('actors')).result as Array<{ id: string; type: string; steward: string }>;
    expect(actors.map((a) => `${a.steward}/${a.id}`)).toEqual(['pool/worker', 'root/stuck', 'fragile/crashy']);
    expect(await c.call('ask', { id: 'worker', message: 'work', input: { ms: 0 } })).toEqual({ id: 2, ok: true, result: 1 });
    const bad = await c.call('ask', { id: 'worker', message: 'work', input: { ms: -1 } });
    expect(bad.ok).toBe(false);
    expect(bad.error?.code).toBe('INVALID_MESSAGE');
    const badTell = await c.call('tell', { id: 'worker', message: 'work', input: { ms: 'soon' } });
    expect(badTell.error?.code).toBe('INVALID_MESSAGE');
    expect(await c.call('state', { id: 'worker' })).toMatchObject({ ok: true, result: { id: 'worker', state: { handled: 1 }, turns: 1 } });
    expect((await c.call('state', { id: 'nobody' })).error?.code).toBe('ACTOR_NOT_FOUND');
    expect((await c.call('frobnicate')).error?.code).toBe('BAD_REQUEST');
    const trace = (await c.call('trace', { id: 'worker' })).result as { trace: number };
    expect(await c.call('restart', { id: 'worker' })).toMatchObject({ ok: true });
    await until(() => c.pushed.some((p) => (p as { event?: { type?: string } }).event?.type === 'restarted'), 'the traced restart');
    expect(c.pushed.every((p) => (p as { trace: number; event: { actor: string } }).trace === trace.trace)).toBe(true);
    expect(((await c.call('tree')).result as { children: Array<{ name?: string; id?: string }> }).children.map((x) => x.name ?? x.id)).toEqual([
      'pool',
      'stuck',
      'fragile',
    ]);
    c.close();
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });
});

describe('logs and switches', () => {
  it('writes human-readable lines with --pretty, and opens no admin listener with --no-admin', async () => {
    const child = spawnCli(['run', FIXTURE, '--pretty', '--no-admin', '--no-debug', '--config', 'port=0']);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    await until(() => out.includes('service started'), 'the start line');
    child.kill('SIGTERM');
    await new Promise((r) => child.on('close', r));
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(fixture\): front listening$/m);
    expect(out).toMatch(/^ {4}admin: null$/m);
    expect(out).toMatch(/^ {4}debugSocket: null$/m);
    expect(out).not.toContain('{"level"');
  });
});

describe('settings', () => {
  it('a bad flag, environment variable or service config stops start-up with one line naming the setting (exit 2)', async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--admin-port', 'abc'], {}, /^error: option '--admin-port <port>' argument 'abc' is invalid\. --admin-port must be a whole number$/],
      [
        [],
        { HOLDFAST_ADMIN_PORT: '70000' },
        /^holdfast: invalid setting --admin-port \(HOLDFAST_ADMIN_PORT\)="70000": Too big: expected number to be <=65535$/,
      ],
      [[], { HOLDFAST_DEBUG: 'maybe' }, /^holdfast: invalid HOLDFAST_DEBUG="maybe": expected true or false$/],
      [['--config', 'port=99999'], {}, /^holdfast: invalid config port="99999" for service 'fixture': Too big: expected number to be <=65535$/],
      [[], { FIXTURE_WORK_MS: 'slow' }, /^holdfast: invalid config workMs="slow" for service 'fixture': Invalid input: expected number, received NaN$/],
      [
        ['--log-level', 'loud'],
        {},
        /^error: option '--log-level <level>' argument 'loud' is invalid\. Allowed choices are trace, debug, info, warn, error, fatal, silent\.$/,
      ],
    ];
    for (const [flags, env, message] of cases) {
      const r = await runCli(['run', FIXTURE, '--no-admin', '--no-debug', ...flags], env);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });

  it('explains itself with --help, and refuses a module that is not a service', async () => {
    const help = await runCli(['run', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: holdfast run [options] <entry>');
    expect(help.stdout).toContain('--drain-timeout <ms>');
    const notService = await runCli(['run', 'src/service.ts', '--no-admin', '--no-debug']);
    expect(notService.code).toBe(2);
    expect(notService.stderr.trim()).toBe('holdfast: src/service.ts does not export a service: its default export must be defineService({ ... })');
  });
});
