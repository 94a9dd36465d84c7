import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('benchmark harness', () => {
  // A smoke run: the harness works end to end and every measurement verifies its result.
  // No timing is asserted (speed is never a unit test).
  it('runs every scenario for every contestant with --quick and verifies every result', async () => {
    await promisify(execFile)(process.execPath, ['--conditions=holdfast:source', '--import', 'tsx', 'src/main.ts', '--quick'], {
      cwd: pkg,
      timeout: 180_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const result = JSON.parse(readFileSync(join(pkg, 'results', 'quick.json'), 'utf8')) as {
      quick: boolean;
      contestants: Array<{ name: string }>;
      rows: Array<{ scenario: string; contestant: string; rounds: number; verified: boolean; median: number; ratio: number }>;
    };
    expect(result.quick).toBe(true);
    const names = result.contestants.map((c) => c.name);
    expect(names).toEqual(['floor (hand-written owner loop)', 'holdfast (validation off)', 'holdfast (validation on)']);
    const scenarios = ['sequential-ask', 'pipelined-ask', 'tell', 'idle-actors'];
    expect(result.rows.map((r) => `${r.scenario}/${r.contestant}`)).toEqual(scenarios.flatMap((s) => names.map((n) => `${s}/${n}`)));
    for (const row of result.rows) {
      expect(row.verified).toBe(true);
      expect(row.rounds).toBe(2);
      expect(row.median).toBeGreaterThan(0);
      expect(Number.isFinite(row.ratio)).toBe(true);
    }
    expect(result.rows.filter((r) => r.contestant.startsWith('floor')).every((r) => r.ratio === 1)).toBe(true);
    const supervision = (result as unknown as { supervision: Array<{ scenario: string; verified: boolean; rounds: number; median: number }> }).supervision;
    expect(supervision.map((r) => r.scenario)).toEqual(['sweep-idle', 'hang-detection', 'restart', 'restart-group']);
    for (const row of supervision) {
      expect(row.verified).toBe(true);
      expect(row.rounds).toBe(1);
      expect(row.median).toBeGreaterThan(0);
    }
  });
});
