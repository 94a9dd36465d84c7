import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A PostgreSQL server of its own, on loopback, in a temporary directory. */
export interface TestPostgres {
  /** The connection string of database `name` (made with {@link TestPostgres.createDatabase}). */
  url(name: string): string;
  createDatabase(name: string): void;
  /** End every connection to database `name` from the server's side (as a restart or a network cut would). */
  terminateConnections(name: string): void;
  /**
   * Run `sql` on database `name` in a psql of its own, in the background: `printed(text)` resolves
   * once psql has printed `text` (a `SELECT 'text';` in the script), `exited` with its exit code.
   */
  psqlInBackground(name: string, sql: string): { printed(text: string): Promise<void>; readonly exited: Promise<number> };
  stop(): void;
}

/** Where PostgreSQL's server programs are (Debian keeps them outside PATH). */
function binDir(): string {
  const which = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (which.status === 0 && existsSync(join(which.stdout.trim(), 'initdb'))) return which.stdout.trim();
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
  throw new Error('PostgreSQL server programs not found: scripts/test-tools.mjs installs them (apt-get install postgresql)');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Start a throwaway PostgreSQL server: initdb in a temporary directory (as the `postgres` user
 * when run as root, which PostgreSQL refuses to be), listening on 127.0.0.1 only, with fsync on.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-pg-'));
  const data = join(dir, 'data');
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const run = (program: string, args: string[]) => {
    const cmd = asRoot ? 'runuser' : join(bin, program);
    const argv = asRoot ? ['-u', 'postgres', '--', join(bin, program), ...args] : args;
    execFileSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  if (asRoot) {
    const id = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    const gid = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
    chownSync(dir, Number(id), Number(gid));
  }
  run('initdb', ['-D', data, '-U', 'holdfast', '--auth=trust', '--no-instructions', '-E', 'UTF8']);
  const port = await freePort();
  run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-o', `-p ${port} -h 127.0.0.1 -k ${dir} -c fsync=on`, 'start']);
  const psql = (sql: string) =>
    execFileSync(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'holdfast', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
      stdio: 'ignore',
    });
  return {
    url: (name) => `postgres://holdfast@127.0.0.1:${port}/${name}`,
    createDatabase: (name) => psql(`CREATE DATABASE "${name}"`),
    terminateConnections: (name) => psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name.replace(/'/g, "''")}'`),
    psqlInBackground(name, sql) {
      const child = spawn(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'holdfast', '-d', name, '-v', 'ON_ERROR_STOP=1', '-At', '-f', '-'], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      // From standard input, statement by statement (with -c, psql would run them as one query and print only the last result).
      child.stdin.end(sql);
      let out = '';
      const waiting: Array<{ text: string; resolve: () => void }> = [];
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => {
        out += d;
        for (const w of waiting.splice(0))
          if (out.includes(w.text)) w.resolve();
          else waiting.push(w);
      });
      const exited = new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
      return {
        printed: (text) =>
          new Promise<void>((resolve, reject) => {
            if (out.includes(text)) return resolve();
            waiting.push({ text, resolve });
            void exited.then((code) => reject(new Error(`psql exited (${code}) before printing ${text}`)));
          }),
        exited,
      };
    },
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
