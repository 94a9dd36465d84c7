import { execFileSync, execSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DebugClient, type RemoteError, runOnce } from '@holdfast/repl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, runCli, type Started, startFixture, until } from './service.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');

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
    const refused = await runCli(['run', 'test/fixtures/app.ts', '--no-admin', '--no-debug', '--debug-tcp', '0.0.0.0:0', '--debug-token', token]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(
      'holdfast: invalid setting --debug-tcp (HOLDFAST_DEBUG_TCP)="0.0.0.0:0": the debug listener only binds to a loopback address (127.0.0.1, ::1, localhost)',
    );
    const noToken = await runCli(['run', 'test/fixtures/app.ts', '--no-admin', '--no-debug', '--debug-tcp', '127.0.0.1:0']);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr.trim()).toMatch(/^holdfast: invalid setting --debug-token \(HOLDFAST_DEBUG_TOKEN\)=undefined: a TCP debug listener needs a token/);

    const s = await startFixture(['--debug-tcp', '127.0.0.1:0', '--debug-token', token]);
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
    // The test installs what it needs: a real terminal multiplexer.
    execSync('command -v tmux >/dev/null || (apt-get update -qq && apt-get install -y -qq tmux >/dev/null)', { stdio: 'ignore' });
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
    const cmd = `cd ${pkg} && ${process.execPath} --conditions=holdfast:source --import tsx src/cli.ts repl --socket ${s.socket}; echo "EXITED=$?"; sleep 30`;
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

describe('finding the service to attach to', () => {
  it('attaches to the only live service in the private directory, removes sockets left by killed services (so does a service that starts), and asks which when several are live', async () => {
    const env = { TMPDIR: mkdtempSync(join(os.tmpdir(), 'holdfast-tmpdir-')) };
    const first = await startFixture([], env, null);
    let second: Started | null = null;
    try {
      const dir = dirname(first.socket);
      expect(dir).toBe(join(env.TMPDIR, `holdfast-${process.getuid?.() ?? 'user'}`));
      // A service killed with SIGKILL cannot remove its socket: here, one of a process that is gone.
      const gone = spawnSync(process.execPath, ['-e', '']).pid;
      writeFileSync(join(dir, `ghost-${gone}.sock`), '');
      const one = await runCli(['repl', '--eval', '.actors', '--json'], env);
      expect(one.stderr).toBe('');
      expect(one.code).toBe(0);
      expect((JSON.parse(one.stdout) as Array<{ id: string }>).map((a) => a.id)).toEqual(['worker', 'stuck', 'crashy']);
      expect(readdirSync(dir)).toEqual([basename(first.socket)]);

      // A service that starts sweeps them too.
      writeFileSync(join(dir, `ghost-${gone}.sock`), '');
      second = await startFixture([], env, null);
      expect(readdirSync(dir).sort()).toEqual([basename(first.socket), basename(second.socket)].sort());
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
