import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { appDir, freshStore, startService } from '../../src/service.js';

const app = appDir('kv');

describe('kv service (every key a durable actor)', () => {
  it('serves get/put/delete/incr/compare-and-set over HTTP, keeps every counter exact under 100 readers and 10 writers, and drains on SIGTERM', async () => {
    const { child, front, logs, exited } = await startService(app, ['--config', 'port=0', ...freshStore('kv').args]);
    try {
      const call = async (method: string, path: string, body?: string) => {
        const r = await fetch(`${front}${path}`, { method, ...(body !== undefined && { body }) });
        return { status: r.status, body: (await r.json()) as Record<string, unknown> };
      };
      expect(await call('GET', '/kv/a')).toEqual({ status: 404, body: { error: 'NO_SUCH_KEY', message: 'no such key', key: 'a' } });
      expect(await call('PUT', '/kv/a', 'one')).toEqual({ status: 200, body: { key: 'a', version: 1 } });
      expect(await call('GET', '/kv/a')).toEqual({ status: 200, body: { key: 'a', value: 'one', version: 1 } });
      // Compare-and-set: the stale version loses, the current one wins.
      expect(await call('PUT', '/kv/a?version=0', 'zero')).toEqual({
        status: 409,
        body: { error: 'VERSION_CONFLICT', message: 'rejected: VERSION_CONFLICT', details: { key: 'a', expected: 0, actual: 1 } },
      });
      expect(await call('PUT', '/kv/a?version=1', 'two')).toEqual({ status: 200, body: { key: 'a', version: 2 } });
      expect(await call('POST', '/kv/a/incr?by=1')).toEqual({
        status: 409,
        body: { error: 'NOT_AN_INTEGER', message: 'rejected: NOT_AN_INTEGER', details: { key: 'a' } },
      });
      expect(await call('POST', '/kv/n/incr?by=5')).toEqual({ status: 200, body: { key: 'n', value: '5', version: 1 } });
      expect(await call('POST', '/kv/n/incr?by=x')).toMatchObject({
        status: 400,
        body: { error: 'INVALID_REQUEST', issues: [{ path: ['querystring', 'by'] }] },
      });
      expect(await call('DELETE', '/kv/a')).toEqual({ status: 200, body: { key: 'a', deleted: true } });
      expect(await call('DELETE', '/kv/a')).toEqual({ status: 404, body: { key: 'a', deleted: false } });

      // The load script: 100 readers and 10 writers for 2 s; it checks the counters itself.
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          '--conditions=holdfast:source',
          '--import',
          'tsx',
          'src/load.ts',
          '--url',
          front,
          '--seconds',
          '2',
          '--readers',
          '100',
          '--writers',
          '10',
          '--keys',
          '20',
        ],
        { cwd: app, timeout: 60_000 },
      );
      const lines = stdout.trim().split('\n');
      expect(lines[1]).toBe('final values: all 20 counters equal the writes that succeeded');
      const result = JSON.parse(lines.at(-1) ?? '{}') as Record<string, number | unknown[]>;
      expect(result).toMatchObject({ readers: 100, writers: 10, failures: 0, regressions: 0, mismatches: [] });
      expect(result.reads as number).toBeGreaterThan(0);
      expect(result.writes as number).toBeGreaterThan(0);
      // The service counted the same acknowledged writes: the load's increments, plus one put, one
      // compare-and-set, one incr and one delete that deleted above (refused writes change nothing;
      // the load's resets found nothing to delete in a fresh store).
      const stats = (await call('GET', '/stats')).body as { writes: number; durable: { store: string; commits: number; writes: number } };
      expect(stats.writes).toBe((result.writes as number) + 1 + 1 + 1 + 1);
      expect(stats.durable.store).toMatch(/^sqlite:.*kv\.db$/);
      // Group commit: fewer transactions than actor states written.
      expect(stats.durable.commits).toBeLessThan(stats.durable.writes);

      // The debug REPL, through the app's own bin, attached by the socket the service announced.
      const socket = logs.find((l) => l.msg === 'service started')?.debugSocket as string;
      const repl = await promisify(execFile)(join(app, 'node_modules', '.bin', 'holdfast'), ['repl', '--socket', socket, '--eval', '.actors', '--json'], {
        cwd: app,
      });
      const ids = (JSON.parse(repl.stdout) as Array<{ id: string }>).map((a) => a.id);
      expect(ids).toContain('kv/n');
      expect(ids).toContain('kv/counter-0');
      const state = await promisify(execFile)(join(app, 'node_modules', '.bin', 'holdfast'), ['repl', '--socket', socket, '--eval', '.state kv/n', '--json'], {
        cwd: app,
      });
      expect(JSON.parse(state.stdout)).toMatchObject({
        id: 'kv/n',
        type: 'kv-entry',
        state: { value: '5', version: 1 },
        durable: { revision: 1, version: 1, storedVersion: 0, dirty: false, held: 0, committing: false },
      });

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(logs.at(-1)).toMatchObject({ msg: 'stopped', clean: true, exitCode: 0 });
    } finally {
      child.kill('SIGKILL');
    }
  });
});
