import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DebugClient, type RemoteError, runOnce } from '@holdfast/repl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE, get, runCli, type Started, startFixture, until } from '../../src/cli.js';

/** The tests package, whose bin the terminal session runs. */
const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Run one REPL command line in-process against the real service; returns what it printed. */
async function run(client: DebugClient, line: string, json = false): Promise<{ ok: boolean; text: string }> {
  let text = '';
  const ok = await runOnce(client, line, { json, write: (t) => (text += t) });
  return { ok, text };
}

describe('the debug REPL against a running service', () => {
  let s: Started;
  let client: DebugClient;
  beforeAll(async () => {
    s = await startFixture();
    client = await DebugClient.connect({ socket: s.socket }, 'test');
  });
  afterAll(async () => {
    client?.close();
    s?.child.kill('SIGTERM');
    await s?.exited;
  });

  it('says hello with the protocol version, service and eval switch', () => {
    expect(client.hello).toEqual({ version: 1, service: 'fixture', pid: s.child.pid, eval: false });
  });

  it('.actors lists id, type, steward, host, status, mailbox, turns, restarts and last turn; --json gives objects', async () => {
    await get(`${s.front}/work`);
    const table = await run(client, '.actors');
    const lines = table.text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id\s+type\s+steward\s+host\s+status\s+mailbox\s+turns\s+restarts\s+last turn$/);
    expect(lines[1]).toMatch(/^worker\s+worker\s+pool\s+main\s+running\s+0\s+1\s+0\s+\d+\.\ds ago$/);
    expect(lines.slice(2).map((l) => l.split(/\s+/)[0])).toEqual(['stuck', 'crashy']);
    const json = JSON.parse((await run(client, '.actors stu', true)).text) as Array<Record<string, unknown>>;
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({
      id: 'stuck',
      type: 'worker',
      steward: 'root',
      status: 'running',
      mailbox: 0,
      turns: 0,
      restarts: 0,
      host: 'main',
      lastTurnAt: null,
    });
  });

  it('.ask returns the real reply and changes real state; a bad input prints the issues and changes nothing', async () => {
    const before = (await client.call('state', { id: 'worker' })) as { state: { handled: number } };
    expect((await run(client, '.ask worker work {"ms": 0}')).text).toBe(`${before.state.handled + 1}\n`);
    const bad = await run(client, '.ask worker work {"ms": -1}');
    expect(bad.ok).toBe(false);
    expect(bad.text).toBe(
      "INVALID_MESSAGE: invalid input for 'work': ms: Too small: expected number to be >=0\n  - ms: Too small: expected number to be >=0\n",
    );
    expect((await run(client, '.tell worker work {"ms": "soon"}')).text).toMatch(
      /^INVALID_MESSAGE: .*\n {2}- ms: Invalid input: expected number, received string\n$/,
    );
    expect((await run(client, '.ask worker nope')).text).toMatch(/^INVALID_MESSAGE: actor 'worker' \(worker\) has no message 'nope'/);
    expect((await run(client, '.ask worker work {oops')).text).toBe('USAGE: the input is not JSON: {oops\n');
    const after = (await client.call('state', { id: 'worker' })) as { state: { handled: number } };
    expect(after.state.handled).toBe(before.state.handled + 1);
    expect((await run(client, '.tell worker work {"ms": 0}')).text).toBe('sent work to worker\n');
    await until(
      async () => ((await client.call('state', { id: 'worker' })) as { state: { handled: number } }).state.handled === before.state.handled + 2,
      'the tell',
    );
  });

  it(".state shows the actor's inspect view; .tree the supervision tree with strategies and restart counts", async () => {
    expect((await run(client, '.state stuck')).text).toBe('stuck (worker) running, incarnation 1\n{ handled: 0 }\n');
    expect((await run(client, '.state nobody')).text).toBe("ACTOR_NOT_FOUND: no actor 'nobody'\n");
    expect((await run(client, '.tree')).text).toBe(
      [
        'root [one-for-one, 0/3 restarts in 5000 ms] running',
        '├─ pool [one-for-one, 0/3 restarts in 5000 ms] running',
        '│  └─ worker (worker) running #1, 0 restarts',
        '├─ stuck (worker) running #1, 0 restarts',
        '└─ fragile [one-for-one, 0/0 restarts in 60000 ms] running',
        '   └─ crashy (worker) running #1, 0 restarts',
        '',
      ].join('\n'),
    );
  });

  it('.trace shows the messages another client sends, and the replies, until .untrace', async () => {
    const other = await DebugClient.connect({ socket: s.socket }, 'other');
    let text = '';
    const stop = (async () => {
      const { Commands, Printer } = await import('@holdfast/repl');
      const commands = new Commands(client, new Printer((t) => (text += t), false, false));
      await commands.execute('trace', 'worker');
      await other.call('ask', { id: 'worker', message: 'work', input: { ms: 0 } });
      await get(`${s.front}/count`);
      await until(() => text.includes('reply count'), 'the traced reply');
      await commands.execute('untrace', '');
      await other.call('ask', { id: 'worker', message: 'count', input: {} });
    })();
    await stop;
    other.close();
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^tracing worker \(trace \d+\); \.untrace stops$/);
    expect(lines.slice(1, 5)).toEqual([
      '→ worker ask work { ms: 0 }',
      expect.stringMatching(/^← worker reply work \d+$/),
      '→ worker ask count {}',
      expect.stringMatching(/^← worker reply count \d+$/),
    ]);
    expect(lines.at(-1)).toBe('stopped 1 trace');
  });

  it('.restart and .stop act on the real actor; .events shows what happened; .stats the counters', async () => {
    expect((await run(client, '.restart worker')).text).toBe('restarted worker\n');
    expect(((await client.call('state', { id: 'worker' })) as { incarnation: number }).incarnation).toBe(2);
    const events = (await run(client, '.events worker')).text.trimEnd().split('\n');
    expect(events.map((l) => l.replace(/^\d\d:\d\d:\d\d\.\d{3} /, ''))).toEqual([
      'spawned worker',
      'started worker incarnation=1',
      'restarted worker incarnation=2',
      'started worker incarnation=2',
    ]);
    expect((await run(client, '.stop crashy')).text).toBe('stopped crashy\n');
    expect((await run(client, '.state crashy')).text).toBe("ACTOR_NOT_FOUND: no actor 'crashy'\n");
    const stats = JSON.parse((await run(client, '.stats', true)).text) as Record<string, number>;
    expect(stats).toMatchObject({ name: 'fixture', status: 'running', actors: 2 });
    expect(stats.restarts).toBeGreaterThanOrEqual(1);
    expect((await run(client, '.stats')).text).toMatch(/^counter\s+value\nasks\s+\d+\n/);
  });

  it('completes commands, actor ids, and message names after an actor id', async () => {
    const { Commands, Printer } = await import('@holdfast/repl');
    const commands = new Commands(client, new Printer(() => {}, false, false));
    expect(await commands.complete('.st')).toEqual([['.state', '.stop', '.stats'], '.st']);
    expect(await commands.complete('.state st')).toEqual([['stuck'], 'st']);
    expect(await commands.complete('.ask worker ')).toEqual([['work', 'count', 'hang', 'crash'], '']);
    expect(await commands.complete('.ask worker c')).toEqual([['count', 'crash'], 'c']);
    expect(await commands.complete('.stats x')).toEqual([[], '.stats x']);
  });

  it('.help lists every command; .eval says that evaluation is off', async () => {
    const help = (await run(client, '.help')).text;
    for (const c of [
      '.actors [filter]',
      '.tree',
      '.state <id>',
      '.ask <id> <message> [json]',
      '.tell <id> <message> [json]',
      '.trace [id]',
      '.restart <id>',
      '.stop <id>',
      '.stats',
      '.events [id]',
      '.exit',
    ]) {
      expect(help).toContain(c);
    }
    expect((await run(client, '.eval 1 + 1')).text).toBe('EVAL_DISABLED: evaluation is off in this service: start it with --allow-eval to turn it on\n');
  });

  it('holdfast repl --eval runs one command and exits (JSON for scripts)', async () => {
    const r = await runCli(['repl', '--socket', s.socket, '--eval', '.actors', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(rows.map((a) => a.id)).toEqual(['worker', 'stuck']);
    for (const a of rows) expect(Object.keys(a)).toEqual(expect.arrayContaining(['id', 'type', 'status', 'mailbox', 'turns', 'restarts']));
    const bad = await runCli(['repl', '--socket', s.socket, '--eval', '.state nobody']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe("ACTOR_NOT_FOUND: no actor 'nobody'\n");
  });

  it('a malformed frame gets an error and the session goes on; a huge one is refused without disturbing others or the service', async () => {
    const raw = net.createConnection(s.socket);
    // The server ends the connection while the huge line is still being written: EPIPE is expected.
    raw.on('error', () => {});
    await new Promise((r) => raw.once('connect', r));
    let got = '';
    raw.setEncoding('utf8');
    raw.on('data', (d) => {
      got += d;
    });
    raw.write('this is not json\n{"id": 7, "cmd": "fly"}\n{"id": 8, "cmd": "actors"}\n');
    await until(() => got.split('\n').length >= 4, 'three answers');
    const [a, b, c] = got
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(a).toEqual({ id: null, ok: false, error: { code: 'BAD_REQUEST', message: 'not a JSON line' } });
    expect(b).toMatchObject({ id: 7, ok: false, error: { code: 'BAD_REQUEST', message: 'not a request of the debug protocol' } });
    expect(c).toMatchObject({ id: 8, ok: true });
    got = '';
    const closed = new Promise((r) => raw.on('close', r));
    raw.write(`{"id": 9, "cmd": "ask", "args": {"input": "${'x'.repeat(2 * 1024 * 1024)}`);
    await closed;
    expect(JSON.parse(got.trim())).toMatchObject({ ok: false, error: { code: 'FRAME_TOO_LARGE' } });
    // The other session and the service are undisturbed.
    expect(((await client.call('actors')) as unknown[]).length).toBe(2);
    expect((await get(`${s.front}/count`)).status).toBe(200);
  });
});

/** The resident memory of a process, in bytes (Linux). */
function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(kb?.[1]) * 1024;
}

/** A raw connection to the debug socket that counts what it is sent, and reads only when told to. */
async function rawSession(path: string): Promise<{ socket: net.Socket; lines: () => string[] }> {
  const socket = net.createConnection(path);
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  let got = '';
  socket.on('data', (d) => {
    got += d;
  });
  return { socket, lines: () => got.split('\n').filter((l) => l !== '') };
}

describe('the debug endpoint under a hostile or slow client', () => {
  let s: Started;
  beforeAll(async () => {
    s = await startFixture();
  });
  afterAll(async () => {
    s?.child.kill('SIGTERM');
    await s?.exited;
  });

  it('stops reading from a client that does not read its answers: the service stays responsive and its memory bounded', async () => {
    const flood = await rawSession(s.socket);
    flood.socket.pause();
    const before = rss(s.child.pid as number);
    // 200 000 requests whose answers (the actor list, ~1 KB each) would be ~200 MB if all were buffered.
    const line = '{"id":1,"cmd":"actors"}\n';
    const chunk = line.repeat(10_000);
    for (let i = 0; i < 20; i++) flood.socket.write(chunk);
    await new Promise((r) => setTimeout(r, 1_500));
    const during = rss(s.child.pid as number);
    expect(during - before).toBeLessThan(48 * 1024 * 1024);
    // Another client is served at once, and so is the front.
    const other = await DebugClient.connect({ socket: s.socket }, 'test');
    expect(((await other.call('actors')) as unknown[]).length).toBe(3);
    other.close();
    expect((await get(`${s.front}/count`)).status).toBe(200);
    flood.socket.destroy();
  });

  it('caps traces: 8 on one connection, 32 over all connections', async () => {
    const sessions = await Promise.all(Array.from({ length: 5 }, () => DebugClient.connect({ socket: s.socket }, 'tracer')));
    const outcomes: string[] = [];
    for (const c of sessions) {
      for (let i = 0; i < 9; i++) {
        outcomes.push(
          await c.call('trace', {}).then(
            () => 'ok',
            (e: RemoteError) => e.code,
          ),
        );
      }
    }
    // Connection by connection: 8 taken and the 9th refused, until the service has 32 open.
    const expected = [
      ...Array(4)
        .fill([...Array(8).fill('ok'), 'TOO_MANY_TRACES'])
        .flat(),
      ...Array(9).fill('TOO_MANY_TRACES'),
    ];
    expect(outcomes).toEqual(expected);
    // A closed connection gives its traces back.
    sessions[0]?.close();
    await until(
      async () =>
        (await sessions[4]?.call('trace', {}).then(
          () => true,
          () => false,
        )) === true,
      'a freed trace',
    );
    for (const c of sessions) c.close();
  });

  it('drops trace lines a slow client cannot take, and tells it how many, instead of buffering them', async () => {
    const slow = await rawSession(s.socket);
    slow.socket.write('{"id":1,"cmd":"trace","args":{"id":"worker"}}\n');
    await until(() => slow.lines().length === 1, 'the trace');
    const { trace } = (JSON.parse(slow.lines()[0] as string) as { result: { trace: number } }).result;
    slow.socket.pause();
    // Traffic to the traced actor: every ask makes two trace lines (in, and the reply out).
    const asker = await DebugClient.connect({ socket: s.socket }, 'asker');
    for (let round = 0; round < 40; round++) {
      await Promise.all(Array.from({ length: 500 }, () => asker.call('ask', { id: 'worker', message: 'count', input: {} })));
    }
    asker.close();
    slow.socket.resume();
    await until(() => slow.lines().some((l) => l.includes('"kind":"dropped"')), 'the dropped notice');
    const pushes = slow
      .lines()
      .slice(1)
      .map((l) => JSON.parse(l) as { trace: number; kind: string; event: { count?: number } });
    const dropped = pushes.filter((p) => p.kind === 'dropped');
    expect(dropped).toHaveLength(1);
    expect(dropped[0]?.trace).toBe(trace);
    const delivered = pushes.filter((p) => p.kind === 'message').length;
    // 20 000 asks: 40 000 lines in all, each either delivered or counted as dropped.
    expect(delivered + (dropped[0]?.event.count ?? 0)).toBe(40_000);
    expect(dropped[0]?.event.count).toBeGreaterThan(0);
    slow.socket.destroy();
  });
});

describe('who may attach', () => {
  it('the socket is 0600 in a 0700 directory by default, and another user cannot connect', async () => {
    const s = await startFixture([], {}, null);
    try {
      expect(statSync(s.socket).mode & 0o777).toBe(0o600);
      expect(statSync(dirname(s.socket)).mode & 0o777).toBe(0o700);
      expect(dirname(s.socket)).toBe(join(os.tmpdir(), `holdfast-${process.getuid?.()}`));
      // As another user (nobody), connecting fails with EACCES; as ourselves it works.
      const probe = `require('net').createConnection(${JSON.stringify(s.socket)}).on('connect',()=>{console.log('CONNECTED');process.exit(0)}).on('error',(e)=>{console.log(e.code);process.exit(0)})`;
      const asNobody = execFileSync('runuser', ['-u', 'nobody', '--', process.execPath, '-e', probe], { encoding: 'utf8' }).trim();
      expect(asNobody).toBe('EACCES');
      const asUs = execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' }).trim();
      expect(asUs).toBe('CONNECTED');
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  it('over TCP: only on loopback, only with the token', async () => {
    const token = 'a-long-enough-token-123';
    // A token on the command line is refused: ps shows argv to every local user.
    const inArgv = await runCli(['run', FIXTURE, '--no-admin', '--no-debug', '--debug-tcp', '127.0.0.1:0', '--debug-token', token]);
    expect(inArgv.code).toBe(2);
    expect(inArgv.stderr).toContain('--debug-token is not taken: a token on the command line is visible to every local user (ps)');
    const replArgv = await runCli(['repl', '--tcp', '127.0.0.1:1', '--token', token]);
    expect(replArgv.code).toBe(2);
    expect(replArgv.stderr).toContain('--token is not taken');
    // A token file others may read is refused too.
    const dir = mkdtempSync(join(os.tmpdir(), 'holdfast-token-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o644 });
    chmodSync(tokenFile, 0o644);
    const open = await runCli(['run', FIXTURE, '--no-admin', '--no-debug', '--debug-tcp', '127.0.0.1:0', '--debug-token-file', tokenFile]);
    expect(open.code).toBe(2);
    expect(open.stderr.trim()).toBe(
      `holdfast: invalid setting --debug-token-file=${JSON.stringify(tokenFile)}: other users may read it (mode 644); chmod 600 it`,
    );
    chmodSync(tokenFile, 0o600);

    const refused = await runCli(['run', FIXTURE, '--no-admin', '--no-debug', '--debug-tcp', '0.0.0.0:0'], { HOLDFAST_DEBUG_TOKEN: token });
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(
      'holdfast: invalid setting --debug-tcp (HOLDFAST_DEBUG_TCP)="0.0.0.0:0": the debug listener only binds to a loopback address (127.0.0.1, ::1, localhost)',
    );
    const noToken = await runCli(['run', FIXTURE, '--no-admin', '--no-debug', '--debug-tcp', '127.0.0.1:0']);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr.trim()).toMatch(
      /^holdfast: invalid setting --debug-token-file \(HOLDFAST_DEBUG_TOKEN\)=undefined: a TCP debug listener needs a token/,
    );

    const s = await startFixture(['--debug-tcp', '127.0.0.1:0', '--debug-token-file', tokenFile]);
    try {
      const tcp = s.logs.find((l) => l.msg === 'service started')?.debugTcp as string;
      const port = Number(tcp.split(':').at(-1));
      const wrong = await DebugClient.connect({ host: '127.0.0.1', port, token: 'not-the-token-at-all' }).then(
        () => 'connected',
        (e: RemoteError) => e.code,
      );
      expect(wrong).toBe('UNAUTHORIZED');
      // Anything but hello first is refused, and the connection closed.
      const raw = net.createConnection(port, '127.0.0.1');
      let got = '';
      raw.on('data', (d) => {
        got += d;
      });
      raw.write('{"id":1,"cmd":"actors"}\n');
      await new Promise((r) => raw.on('close', r));
      expect(JSON.parse(got)).toMatchObject({ id: 1, ok: false, error: { code: 'UNAUTHORIZED' } });
      const good = await DebugClient.connect({ host: '127.0.0.1', port, token });
      expect(((await good.call('actors')) as unknown[]).length).toBe(3);
      good.close();
      // The repl reads the token from a file, or from the environment.
      for (const [args, env] of [
        [['--token-file', tokenFile], {}],
        [[], { HOLDFAST_DEBUG_TOKEN: token }],
      ] as const) {
        const r = await runCli(['repl', '--tcp', `127.0.0.1:${port}`, ...args, '--eval', '.actors', '--json'], env);
        expect([r.code, (JSON.parse(r.stdout) as unknown[]).length]).toEqual([0, 3]);
      }
      // From a non-loopback address of this machine, nothing listens.
      const external = Object.values(os.networkInterfaces())
        .flat()
        .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address;
      expect(external).toBeDefined();
      const outcome = await new Promise<string>((resolve) => {
        const c = net.createConnection(port, external as string);
        c.on('connect', () => {
          c.destroy();
          resolve('connected');
        });
        c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect(outcome).toBe('ECONNREFUSED');
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  it('with --allow-eval, .eval runs code in the service', async () => {
    const s = await startFixture(['--allow-eval']);
    const c = await DebugClient.connect({ socket: s.socket });
    try {
      expect(c.hello.eval).toBe(true);
      expect((await run(c, '.eval system.actors().length + 1')).text).toBe('4\n');
    } finally {
      c.close();
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });
});

describe('a session in a real terminal', () => {
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', 'holdfast-test', ...args], { encoding: 'utf8' });
  let s: Started;
  beforeAll(async () => {
    // tmux is installed by the test command's set-up (scripts/test-tools.mjs), not here.
    expect(spawnSync('tmux', ['-V']).status, 'tmux is needed: run node scripts/test-tools.mjs').toBe(0);
    s = await startFixture();
  });
  afterAll(async () => {
    try {
      tmux('kill-server');
    } catch {
      // Already gone.
    }
    s.child.kill('SIGTERM');
    await s.exited;
  });

  const screen = () => tmux('capture-pane', '-p', '-t', 'repl');
  const startSession = async () => {
    const cmd = `cd ${pkg} && ./node_modules/.bin/holdfast repl --socket ${s.socket}; echo "EXITED=$?"; sleep 30`;
    tmux('new-session', '-d', '-s', 'repl', '-x', '150', '-y', '40', cmd);
    await until(() => /^fixture>/m.test(screen()), 'the prompt', 15_000).catch((e: Error) => {
      throw new Error(`${e.message}; the screen:\n${screen()}`);
    });
  };

  it('lists actors, tab-completes an actor id, and exits with .exit', async () => {
    await startSession();
    tmux('send-keys', '-t', 'repl', '.actors', 'Enter');
    await until(() => /^crashy\s+worker\s+fragile/m.test(screen()), 'the actors table');
    tmux('send-keys', '-t', 'repl', '.state wor', 'Tab');
    await until(() => screen().includes('.state worker'), 'the completed id');
    tmux('send-keys', '-t', 'repl', 'Enter');
    await until(() => screen().includes('worker (worker) running, incarnation 1'), 'the state');
    tmux('send-keys', '-t', 'repl', '.exit', 'Enter');
    await until(() => screen().includes('EXITED=0'), 'the exit');
    tmux('kill-session', '-t', 'repl');
  });

  it('exits cleanly with Ctrl-D', async () => {
    try {
      tmux('kill-session', '-t', 'repl');
    } catch {
      // Not running.
    }
    await startSession();
    tmux('send-keys', '-t', 'repl', 'C-d');
    await until(() => screen().includes('EXITED=0'), 'the exit');
    tmux('kill-session', '-t', 'repl');
  });
});

/** Leave a socket in `dir` as a service killed with SIGKILL does: `ghost-<its pid>.sock`, its process gone. */
function deadSocket(dir: string): void {
  const code = `const p = require('path').join(${JSON.stringify(dir)}, 'ghost-' + process.pid + '.sock'); require('net').createServer().listen(p, () => process.kill(process.pid, 'SIGKILL'));`;
  spawnSync(process.execPath, ['-e', code]);
  expect(readdirSync(dir).some((n) => n.startsWith('ghost-'))).toBe(true);
}

describe('the private socket directory', () => {
  it('refuses a symbolic link planted in its place: nothing in its target is changed or removed', async () => {
    const tmp = mkdtempSync(join(os.tmpdir(), 'holdfast-tmpdir-'));
    const target = mkdtempSync(join(os.tmpdir(), 'holdfast-target-'));
    chmodSync(target, 0o755);
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(target, `victim-${gone}.sock`), 'precious');
    symlinkSync(target, join(tmp, `holdfast-${process.getuid?.() ?? 'user'}`));
    const service = await runCli(['run', FIXTURE, '--no-admin'], { TMPDIR: tmp });
    expect(service.code).toBe(1);
    expect(service.stderr).toContain(`${join(tmp, `holdfast-${process.getuid?.() ?? 'user'}`)} is not a directory (it is a symbolic link): refusing to use it`);
    const repl = await runCli(['repl', '--eval', '.actors'], { TMPDIR: tmp });
    expect(repl.code).toBe(1);
    expect(repl.stderr).toContain('is not a directory (it is a symbolic link)');
    expect(statSync(target).mode & 0o777).toBe(0o755);
    expect(readdirSync(target)).toEqual([`victim-${gone}.sock`]);
    expect(readFileSync(join(target, `victim-${gone}.sock`), 'utf8')).toBe('precious');
  });

  it('tightens a directory of its own that is too open, and refuses a file in its place', async () => {
    const tmp = mkdtempSync(join(os.tmpdir(), 'holdfast-tmpdir-'));
    const dir = join(tmp, `holdfast-${process.getuid?.() ?? 'user'}`);
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
    const s = await startFixture([], { TMPDIR: tmp }, null);
    try {
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(statSync(s.socket).mode & 0o777).toBe(0o600);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
    const tmp2 = mkdtempSync(join(os.tmpdir(), 'holdfast-tmpdir-'));
    writeFileSync(join(tmp2, `holdfast-${process.getuid?.() ?? 'user'}`), '');
    const refused = await runCli(['run', FIXTURE, '--no-admin'], { TMPDIR: tmp2 });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is not a directory (it is a file): refusing to use it');
  });
});

describe('finding the service to attach to', () => {
  it('attaches to the only live service in the private directory, removes sockets left by killed services (so does a service that starts), and asks which when several are live', async () => {
    const env = { TMPDIR: mkdtempSync(join(os.tmpdir(), 'holdfast-tmpdir-')) };
    const first = await startFixture([], env, null);
    let second: Started | null = null;
    try {
      const dir = dirname(first.socket);
      expect(dir).toBe(join(env.TMPDIR, `holdfast-${process.getuid?.() ?? 'user'}`));
      // A service killed with SIGKILL cannot remove its socket: here, one of a process that is gone.
      deadSocket(dir);
      // A file that only looks like a socket of a dead process is not ours to remove.
      const gone = spawnSync(process.execPath, ['-e', '']).pid;
      writeFileSync(join(dir, `notes-${gone}.sock`), 'keep me');
      const one = await runCli(['repl', '--eval', '.actors', '--json'], env);
      expect(one.stderr).toBe('');
      expect(one.code).toBe(0);
      expect((JSON.parse(one.stdout) as Array<{ id: string }>).map((a) => a.id)).toEqual(['worker', 'stuck', 'crashy']);
      expect(readdirSync(dir).sort()).toEqual([basename(first.socket), `notes-${gone}.sock`].sort());

      // A service that starts sweeps them too.
      deadSocket(dir);
      second = await startFixture([], env, null);
      expect(readdirSync(dir).sort()).toEqual([basename(first.socket), basename(second.socket), `notes-${gone}.sock`].sort());
      const two = await runCli(['repl', '--eval', '.actors'], env);
      expect(two.code).toBe(1);
      expect(two.stderr).toBe(
        `holdfast repl: cannot attach: several services in ${dir} (${[basename(first.socket), basename(second.socket)].sort().join(', ')}); pass --socket\n`,
      );
    } finally {
      for (const s of [first, second]) {
        s?.child.kill('SIGTERM');
        await s?.exited;
      }
    }
  });
});
