// For the example apps' end-to-end tests: an app's service under `holdfast run`, as a real child
// process, with its JSON log lines collected and the addresses it prints.
import { type ChildProcess, spawn } from 'node:child_process';

/** A service started with {@link startService}. */
export interface RunningService {
  readonly child: ChildProcess;
  /** Its HTTP front (the `front` field of its logs) and its admin listener. */
  readonly front: string;
  readonly admin: string;
  /** Every JSON log line so far. */
  readonly logs: Array<Record<string, unknown>>;
  /** Resolves with the exit code when the process has closed. */
  readonly exited: Promise<number | null>;
}

/**
 * Run `holdfast run <entry> …args` in the app directory `app` (from source, as `npm start` does)
 * and resolve once it logs `service started`; rejects if it exits first.
 */
export function startService(app: string, entry: string, args: readonly string[]): Promise<RunningService> {
  const child = spawn(
    process.execPath,
    ['--conditions=holdfast:source', '--import', 'tsx', 'node_modules/@holdfast/runtime/src/cli.ts', 'run', entry, '--admin-port', '0', '--no-pretty', ...args],
    { cwd: app },
  );
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const logs: Array<Record<string, unknown>> = [];
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
        if (line.msg === 'service started') resolve({ child, front, admin: line.admin as string, logs, exited });
      }
    });
    void exited.then((code) => reject(new Error(`exited early (${code})`)));
  });
}
