// An example service under `holdfast run`, as a real child process started the way a user starts
// it (the app's `node_modules/.bin/holdfast`), with its JSON log lines collected and the
// addresses it prints.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** An example app's directory, by its folder name under `apps/`. */
export const appDir = (name: string): string => join(root, 'apps', name);

/**
 * A store of its own for one service under test: `--store sqlite:<fresh dir>/<name>.db`. Tests run
 * in parallel; two services on one file would fence each other.
 */
export function freshStore(name = 'store'): { readonly args: readonly string[]; readonly path: string } {
  const path = join(mkdtempSync(join(tmpdir(), 'holdfast-store-')), `${name}.db`);
  return { args: ['--store', `sqlite:${path}`], path };
}

/** A service started with {@link startService}. */
export interface RunningService {
  readonly child: ChildProcess;
  /** Its HTTP front (the `front` field of its logs) and its admin listener. */
  readonly front: string;
  readonly admin: string;
  /** Every JSON log line so far. */
  readonly logs: Array<Record<string, unknown>>;
  /** What it wrote to stderr so far. */
  readonly stderr: () => string;
  /** Resolves with the exit code (or the signal's name) when the process has closed. */
  readonly exited: Promise<number | string>;
}

/** How long a service may take to log `service started` before its start fails (and it is killed). */
const START_TIMEOUT_MS = 60_000;

/**
 * Run `holdfast run src/service.ts …args` in the app directory `app` through the app's own bin,
 * and resolve once it logs `service started`; rejects if it exits first, or does not start within
 * a minute (the process is then killed, and the error carries what it wrote).
 */
export function startService(app: string, args: readonly string[], env: Record<string, string> = {}, entry = 'src/service.ts'): Promise<RunningService> {
  const child = spawn(join(app, 'node_modules', '.bin', 'holdfast'), ['run', entry, '--admin-port', '0', '--no-pretty', ...args], {
    cwd: app,
    env: { ...process.env, ...env },
  });
  const exited = new Promise<number | string>((r) => child.on('close', (code, signal) => r(code ?? signal ?? -1)));
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise<RunningService>((resolve, reject) => {
    let buffered = '';
    let front = '';
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
        buffered = buffered.slice(nl + 1);
        logs.push(line);
        if (typeof line.front === 'string') front = line.front;
        if (line.msg === 'service started') {
          clearTimeout(timer);
          resolve({ child, front, admin: line.admin as string, logs, stderr: () => stderr, exited });
        }
      }
    });
    const timer = setTimeout(() => {
      const last = logs.slice(-5).map((l) => JSON.stringify(l));
      reject(new Error(`did not start within ${START_TIMEOUT_MS / 1000} s; last log lines:\n${last.join('\n')}\nstderr: ${stderr.slice(-2_000)}`));
      child.kill('SIGKILL');
    }, START_TIMEOUT_MS);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited early (${code}): ${stderr}`));
    });
  });
}

/** One HTTP request through `agent` (keep-alive connections): status, Connection header and body. */
export function request(
  agent: http.Agent,
  url: string,
  method: string,
  body?: string,
  headers?: Record<string, string>,
): Promise<{ status: number; connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, ...(headers !== undefined && { headers }) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The resident memory of a process, in bytes (Linux). */
export function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(kb?.[1]) * 1024;
}

/** Poll until `check` is true (real time: the child runs on its own clock). */
export async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}
