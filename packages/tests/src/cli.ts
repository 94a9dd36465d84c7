// Helpers for the runtime's end-to-end tests: `holdfast run` and `holdfast repl` as real child processes.
import { type ChildProcess, type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The tests package: the directory the CLI runs in, and the owner of the bin it runs. */
const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The service the runtime's tests run. */
export const FIXTURE = 'test/runtime/fixtures/app.ts';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface Started {
  readonly child: ChildProcess;
  readonly admin: string;
  readonly front: string;
  readonly socket: string;
  /** Every JSON log line so far. */
  readonly logs: LogLine[];
  readonly stderr: () => string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
}

/** The `holdfast` CLI, through its bin as a user runs it, as a child process. */
export function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  return spawn(join(pkg, 'node_modules', '.bin', 'holdfast'), args, {
    cwd: pkg,
    env: { ...process.env, ...env },
  });
}

/** Run the CLI with `args` and wait for it to exit (for start-up failures). */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnCli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Start the fixture service and wait until it says where its front, admin listener and socket are. */
export async function startFixture(extra: string[] = [], env: Record<string, string> = {}, socketPath?: string | null): Promise<Started> {
  const socket = socketPath === undefined ? join(mkdtempSync(join(os.tmpdir(), 'holdfast-test-')), 'debug.sock') : socketPath;
  const child = spawnCli(
    ['run', FIXTURE, '--admin-port', '0', ...(socket === null ? [] : ['--debug-socket', socket]), '--no-pretty', '--config', 'port=0', ...extra],
    env,
  );
  const logs: LogLine[] = [];
  let stderr = '';
  let buffered = '';
  const exited = new Promise<number | string>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? -1)));
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  let debugSocket = socket ?? '';
  const ready = new Promise<{ admin: string; front: string }>((resolve, reject) => {
    let admin = '';
    let front = '';
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const parsed = JSON.parse(line) as LogLine;
        logs.push(parsed);
        if (parsed.msg === 'front listening') front = parsed.front as string;
        if (parsed.msg === 'service started') {
          admin = parsed.admin as string;
          debugSocket = parsed.debugSocket as string;
        }
        if (admin !== '' && front !== '') resolve({ admin, front });
      }
    });
    void exited.then((code) => reject(new Error(`the service exited (${code}) before it started: ${stderr}`)));
  });
  const { admin, front } = await ready;
  return { child, admin, front, socket: debugSocket, logs, stderr: () => stderr, exited };
}

/** GET a URL on a connection of its own: status and body. */
export async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { headers: { connection: 'close' } });
  return { status: res.status, body: await res.text() };
}

/** GET a URL through `agent` (keep-alive connections): status, body and the Connection header. */
export function getVia(agent: http.Agent, url: string): Promise<{ status: number; body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
      })
      .on('error', reject);
  });
}

/** Poll until `check` is true (real time; the child runs on its own clock). */
export async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Parse Prometheus text: every sample as `name{labels}` → value; throws on a malformed line. */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|[Nn]a[Nn]|\+Inf|-Inf)$/.exec(line);
    if (m === null) throw new Error(`not Prometheus text: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return samples;
}

/** A connection to the debug socket: send a command, get its answer. */
export async function debugClient(path: string): Promise<{
  call(cmd: string, args?: Record<string, unknown>): Promise<{ ok: boolean; result?: unknown; error?: { code: string; message: string; details?: unknown } }>;
  pushed: unknown[];
  close(): void;
}> {
  const socket = net.createConnection(path);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let buffered = '';
  let next = 0;
  const waiting = new Map<number, (v: never) => void>();
  const pushed: unknown[] = [];
  socket.on('data', (d) => {
    buffered += d.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const msg = JSON.parse(buffered.slice(0, nl)) as { id?: number };
      buffered = buffered.slice(nl + 1);
      const done = msg.id === undefined ? undefined : waiting.get(msg.id);
      if (done) {
        waiting.delete(msg.id as number);
        done(msg as never);
      } else pushed.push(msg);
    }
  });
  return {
    call(cmd, args = {}) {
      const id = ++next;
      socket.write(`${JSON.stringify({ id, cmd, args })}\n`);
      return new Promise((resolve) => waiting.set(id, resolve as (v: never) => void));
    },
    pushed,
    close: () => socket.destroy(),
  };
}
