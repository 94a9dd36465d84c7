// The benchmark harness. `pnpm bench` runs every group (one process each) and the supervision
// measurements, then writes results/latest.json and docs/benchmarks.md. `pnpm bench --quick` is a smoke run: small sizes,
// two rounds, results/quick.json only. `pnpm bench --render` rewrites the page from the last run.
// `pnpm bench <group>…` (messaging, fanout, spawn, memory, million, supervision, workers, durable, cluster) measures only
// those and merges them into the last full run's results.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNats } from '@holdfast/tests/nats';
import { startPostgres } from '@holdfast/tests/postgres';
import { clusterMeasurements } from './cluster.js';
import { contestants } from './contestants/index.js';
import { durableMeasurements, STORE_CONFIGS } from './durable.js';
import { peerVersions } from './peerVersions.js';
import { renderMarkdown, summarise, summariseCluster, summariseDurable, summariseSupervision, summariseWorkers } from './report.js';
import { groups } from './scenarios.js';
import { supervisionScenarios } from './supervision.js';
import { workerMeasurements } from './workers.js';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const root = join(pkg, '..', '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.filter((a) => !a.startsWith('--'));

// `--render`: rewrite docs/benchmarks.md from results/latest.json without measuring again.
if (args.includes('--render')) {
  const saved = JSON.parse(readFileSync(join(pkg, 'results', 'latest.json'), 'utf8'));
  saved.versions = { ...peerVersions(), ...saved.versions };
  writeFileSync(
    join(root, 'docs', 'benchmarks.md'),
    renderMarkdown(saved, summarise(saved), summariseSupervision(saved), summariseWorkers(saved), summariseDurable(saved), summariseCluster(saved)),
  );
  process.exit(0);
}

// The messaging group carries the latency tails, whose figure is bimodal per process (the floor's and
// Holdfast's alike: a process's p99 is either about 0.65 or about 1.8 µs), so it gets 8 rounds: with 4,
// the median of the per-round ratios was decided by which mode four processes happened to land in.
// Footprints barely move between rounds (bytes per actor): fewer rounds there. The in-process groups
// take about 18 minutes on 2 cores.
const ROUNDS: Record<string, number> = { messaging: 8, fanout: 4, spawn: 4, memory: 2, million: 1 };
const roundsOf = (group: string) => (quick ? 1 : (ROUNDS[group] ?? 3));
const began = Date.now();
const elapsed = () => `${Math.round((Date.now() - began) / 1000)} s`;
const samples = [];
for (const group of Object.keys(groups)) {
  if (only.length > 0 && !only.includes(group)) continue;
  const rounds = roundsOf(group);
  console.error(`group ${group}${quick ? ' (quick)' : ''}: ${rounds} rounds (at ${elapsed()})`);
  for (let round = 0; round < rounds; round++) {
    // The smoke run puts every contestant of a group in one process; a real run gives each its own.
    const order = quick
      ? ['*']
      : contestants
          .map((_, k) => contestants[(k + round) % contestants.length])
          .filter((c) => c !== undefined && (groups[group] ?? []).some((s) => s.applies === undefined || s.applies(c)))
          .map((c) => c?.name as string);
    for (const name of order) {
      // The order rotates each round, so that no contestant always runs first.
      const r = spawnSync(
        process.execPath,
        ['--expose-gc', '--conditions=holdfast:source', '--import', 'tsx', join(here, 'runGroup.ts'), group, quick ? 'quick' : 'full', name, String(round)],
        { cwd: pkg, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
      );
      if (r.status !== 0) {
        console.error(`group ${group} (${name}) failed (exit ${r.status})`);
        process.exit(1);
      }
      samples.push(...JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '[]'));
    }
  }
}

// Supervision costs: Holdfast alone, a fresh process per round.
if (only.length === 0 || only.includes('supervision')) {
  const supervisionRounds = quick ? 1 : 3;
  console.error(`supervision${quick ? ' (quick)' : ''}: ${supervisionRounds} rounds (at ${elapsed()})`);
  for (let round = 0; round < supervisionRounds; round++) {
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', '--conditions=holdfast:source', '--import', 'tsx', join(here, 'runSupervision.ts'), quick ? 'quick' : 'full', String(round)],
      { cwd: pkg, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
    );
    if (r.status !== 0) {
      console.error(`supervision failed (exit ${r.status})`);
      process.exit(1);
    }
    samples.push(...JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '[]'));
  }
}

// Worker-hosted actors: Holdfast against a raw MessagePort and against itself on the main thread.
if (only.length === 0 || only.includes('workers')) {
  const workerRounds = quick ? 1 : 3;
  console.error(`workers${quick ? ' (quick)' : ''}: ${workerRounds} rounds (at ${elapsed()})`);
  for (let round = 0; round < workerRounds; round++) {
    const r = spawnSync(
      process.execPath,
      ['--conditions=holdfast:source', '--import', 'tsx', join(here, 'runWorkers.ts'), quick ? 'quick' : 'full', String(round)],
      {
        cwd: pkg,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    if (r.status !== 0) {
      console.error(`workers failed (exit ${r.status})`);
      process.exit(1);
    }
    samples.push(...JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '[]'));
  }
}

// Durable actors: Holdfast against a batched writer on the same store, a fresh process (and a
// fresh file or database) for each contestant in each round; PostgreSQL on a server of our own.
if (only.length === 0 || only.includes('durable')) {
  const durableRounds = quick ? 1 : 5;
  console.error(`durable${quick ? ' (quick)' : ''}: ${durableRounds} rounds (at ${elapsed()})`);
  const pg = await startPostgres();
  let databases = 0;
  const runOne = (round: number, args: string[]) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (args[1] === 'postgres') {
      const name = `bench_${++databases}`;
      pg.createDatabase(name);
      env.HOLDFAST_BENCH_PG = pg.url(name);
    }
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', '--conditions=holdfast:source', '--import', 'tsx', join(here, 'runDurable.ts'), quick ? 'quick' : 'full', String(round), ...args],
      { cwd: pkg, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024, env },
    );
    if (r.status !== 0) {
      console.error(`durable ${args.join(' ')} failed (exit ${r.status})`);
      pg.stop();
      process.exit(1);
    }
    samples.push(...JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '[]'));
  };
  try {
    for (let round = 0; round < durableRounds; round++) {
      for (const config of STORE_CONFIGS) {
        // The order alternates each round.
        const who = round % 2 === 0 ? ['floor', 'holdfast'] : ['holdfast', 'floor'];
        for (const w of who) runOne(round, ['rmw', config, w]);
      }
      runOne(round, ['readonly']);
    }
    runOne(0, ['million']);
  } finally {
    pg.stop();
  }
}

// The cluster: node processes on a NATS server and a PostgreSQL of our own (fresh database and
// cluster name for each run); remote asks in rounds, then failover trials in one process.
if (only.length === 0 || only.includes('cluster')) {
  const remoteRounds = quick ? 1 : 4;
  console.error(`cluster${quick ? ' (quick)' : ''}: ${remoteRounds} rounds of remote asks, then failover trials (at ${elapsed()})`);
  const [nats, pg] = await Promise.all([startNats(), startPostgres()]);
  let databases = 0;
  const runOne = (round: number, what: 'remote' | 'failover') => {
    const name = `cluster_${++databases}`;
    pg.createDatabase(name);
    const r = spawnSync(
      process.execPath,
      ['--conditions=holdfast:source', '--import', 'tsx', join(here, 'runCluster.ts'), quick ? 'quick' : 'full', String(round), what],
      {
        cwd: pkg,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, HOLDFAST_BENCH_NATS: nats.url, HOLDFAST_BENCH_PG: pg.url(name) },
      },
    );
    if (r.status !== 0) throw new Error(`cluster ${what} failed (exit ${r.status})`);
    samples.push(...JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '[]'));
  };
  try {
    for (let round = 0; round < remoteRounds; round++) runOne(round, 'remote');
    runOne(0, 'failover');
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 1;
  } finally {
    await nats.stop();
    pg.stop();
  }
  if (process.exitCode === 1) process.exit(1);
}

const versions = { ...peerVersions(), node: process.version, core: JSON.parse(readFileSync(join(root, 'packages/core/package.json'), 'utf8')).version };
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  platform: `${os.platform()} ${os.release()}`,
};
const result = {
  date: new Date().toISOString(),
  quick,
  machine,
  versions,
  contestants: contestants.map((c) => ({ name: c.name, semantics: c.semantics })),
  samples,
};
// A partial run (`pnpm bench workers`) replaces only its own measurements in the last full run.
if (!quick && only.length > 0) {
  const ids = new Set([
    ...only.flatMap((g) => (groups[g] ?? []).map((s) => s.id)),
    ...(only.includes('supervision') ? supervisionScenarios.map((s) => s.id) : []),
    ...(only.includes('workers') ? workerMeasurements.map((m) => m.id) : []),
    ...(only.includes('durable') ? durableMeasurements.map((m) => m.id) : []),
    ...(only.includes('cluster') ? clusterMeasurements.map((m) => m.id) : []),
  ]);
  const saved = JSON.parse(readFileSync(join(pkg, 'results', 'latest.json'), 'utf8')) as typeof result;
  result.samples = [...saved.samples.filter((x) => !ids.has(x.scenario)), ...result.samples];
}
const rows = summarise(result);
const supervision = summariseSupervision(result);
const workerRows = summariseWorkers(result);
const durableRows = summariseDurable(result);
const clusterRows = summariseCluster(result);
mkdirSync(join(pkg, 'results'), { recursive: true });
writeFileSync(
  join(pkg, 'results', quick ? 'quick.json' : 'latest.json'),
  `${JSON.stringify({ ...result, rows, supervision, workers: workerRows, durable: durableRows, cluster: clusterRows }, null, 2)}\n`,
);
if (!quick) writeFileSync(join(root, 'docs', 'benchmarks.md'), renderMarkdown(result, rows, supervision, workerRows, durableRows, clusterRows));
// A peer's failed check is reported in its row; only Holdfast's or the floor's fails the run.
const unverified = [
  ...rows.filter((r) => r.contestant.startsWith('holdfast') || r.contestant.startsWith('floor')),
  ...supervision,
  ...workerRows,
  ...durableRows,
  ...clusterRows,
].filter((r) => !r.verified);
for (const r of rows)
  console.log(
    `${r.scenario.padEnd(16)} ${r.contestant.padEnd(32)} ${r.median.toFixed(3).padStart(14)} ${r.unit.padEnd(12)} x${r.ratio.toFixed(2)} of floor${r.verified ? '' : '  NOT VERIFIED'}`,
  );
for (const r of workerRows)
  console.log(
    `${r.scenario.padEnd(16)} ${'holdfast (worker)'.padEnd(32)} ${r.median.toFixed(3).padStart(14)} ${r.unit}${r.ratio === null ? '' : ` x${r.ratio.toFixed(2)} of ${r.baseline}`}${r.verified ? '' : '  NOT VERIFIED'}`,
  );
for (const r of durableRows)
  console.log(
    `${r.scenario.padEnd(28)} ${r.median.toFixed(2).padStart(14)} ${r.unit}${r.ratio === null ? '' : ` x${r.ratio.toFixed(2)} of ${r.baseline}`}${r.verified ? '' : '  NOT VERIFIED'}`,
  );
for (const r of clusterRows)
  console.log(
    `${r.scenario.padEnd(28)} ${r.median.toFixed(2).padStart(14)} ${r.unit}${r.ratio === null ? '' : ` x${r.ratio.toFixed(2)} of ${r.baseline}`}${r.verified ? '' : '  NOT VERIFIED'}${r.note ? `  (${r.note})` : ''}`,
  );
for (const r of supervision)
  console.log(`${r.scenario.padEnd(16)} ${'holdfast'.padEnd(32)} ${r.median.toFixed(3).padStart(14)} ${r.unit}${r.verified ? '' : '  NOT VERIFIED'}`);
console.error(`bench finished in ${elapsed()}`);
if (unverified.length > 0) {
  console.error(`${unverified.length} row(s) failed verification`);
  process.exit(1);
}
