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
      timeout: 420_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const result = JSON.parse(readFileSync(join(pkg, 'results', 'quick.json'), 'utf8')) as {
      quick: boolean;
      contestants: Array<{ name: string }>;
      rows: Array<{ scenario: string; contestant: string; rounds: number; verified: boolean; median: number; ratio: number }>;
    };
    expect(result.quick).toBe(true);
    const names = result.contestants.map((c) => c.name);
    expect(names).toEqual([
      'floor (hand-written owner loop)',
      'holdfast (validation off)',
      'holdfast (validation on)',
      'Map + async-mutex',
      'nact',
      'xstate v5',
      'comedy',
      'effect (fiber + Queue + Deferred)',
    ]);
    // Every scenario for every contestant it applies to: ping-pong needs actors that talk to each
    // other (not a Map behind a lock), and the million-tell burst does not run for the lock (its
    // queue slows down as it grows); a million actors runs for the floor and Holdfast without validation.
    const expected = [
      ...['sequential-ask', 'sequential-ask-p99', 'sequential-ask-p999', 'pipelined-ask', 'tell', 'fan-out', 'fan-out-map', 'spawn-and-ask'].flatMap((s) =>
        names.map((n) => `${s}/${n}`),
      ),
      ...names.filter((n) => n !== 'Map + async-mutex').map((n) => `tell-burst/${n}`),
      ...names.filter((n) => n !== 'Map + async-mutex').map((n) => `ping-pong/${n}`),
      ...names.map((n) => `idle-actors/${n}`),
      'million-actors/floor (hand-written owner loop)',
      'million-actors/holdfast (validation off)',
    ];
    expect(result.rows.map((r) => `${r.scenario}/${r.contestant}`).sort()).toEqual(expected.sort());
    for (const row of result.rows) {
      // Holdfast and the floor must verify; a peer's failed check is shown in its row (nact can lose
      // a query reply under 10k concurrent queries: its pending-query ids are 32-bit random numbers).
      if (row.contestant.startsWith('holdfast') || row.contestant.startsWith('floor')) expect(row.verified).toBe(true);
      expect(row.rounds).toBe(1);
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
    const workers = (result as unknown as { workers: Array<{ scenario: string; verified: boolean; rounds: number; median: number; ratio: number | null }> })
      .workers;
    expect(workers.map((r) => [r.scenario, r.ratio === null])).toEqual([
      ['worker-ask', false],
      ['worker-pipelined', false],
      ['worker-cpu', false],
      ['worker-cpu-lag', false],
      ['worker-restart', true],
      ['worker-stuck', true],
      ['worker-recovered', true],
    ]);
    for (const row of workers) {
      expect(row.verified).toBe(true);
      expect(row.rounds).toBe(1);
      expect(row.median).toBeGreaterThan(0);
    }
    // Durable actors: every store against its batched floor (each run checks what was stored).
    const durable = (result as unknown as { durable: Array<{ scenario: string; verified: boolean; rounds: number; median: number; ratio: number | null }> })
      .durable;
    expect(durable.map((r) => [r.scenario, r.ratio === null])).toEqual([
      ...['sqlite-full', 'sqlite-normal', 'postgres'].flatMap((c) => [
        [`durable-seq-p50/${c}`, false],
        [`durable-seq-p99/${c}`, false],
        [`durable-1/${c}`, false],
        [`durable-64/${c}`, false],
      ]),
      ['durable-readonly', false],
      ['durable-million', true],
    ]);
    for (const row of durable) {
      expect(row.verified, row.scenario).toBe(true);
      expect(row.rounds).toBe(1);
      expect(row.median).toBeGreaterThan(0);
    }
    // The cluster: remote asks against raw NATS, and failover trials (each checks the value written
    // before the kill is the one answered after it).
    const cluster = (
      result as unknown as { cluster: Array<{ scenario: string; verified: boolean; rounds: number; median: number; ratio: number | null; note: string }> }
    ).cluster;
    expect(cluster.map((r) => [r.scenario, r.ratio === null])).toEqual([
      ['cluster-seq-p50', false],
      ['cluster-seq-p99', false],
      ['cluster-1', false],
      ['cluster-64', false],
      ['cluster-failover-p50', true],
      ['cluster-failover-max', true],
    ]);
    for (const row of cluster) {
      expect(row.verified, row.scenario).toBe(true);
      expect(row.rounds).toBe(1);
      expect(row.median).toBeGreaterThan(0);
    }
    expect(cluster.at(-1)?.note).toMatch(/^3 trials: \d+, \d+, \d+ ms$/);
  });
});
