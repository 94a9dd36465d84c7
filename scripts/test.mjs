#!/usr/bin/env node
// The whole test suite, as CI runs it: lint, typecheck, then every package's tests in one vitest
// run. Ends with one plain line: `tests: N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (title, cmd, args) => {
  console.log(`\n== ${title}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', NO_COLOR: process.env.CI ? '1' : '' } });
  return r.status ?? 1;
};

let failedSteps = 0;
if (run('test tools (tmux, postgresql, nats-server)', process.execPath, [join(root, 'scripts', 'test-tools.mjs')]) !== 0) failedSteps++;
if (run('lint (biome)', bin('biome'), ['check', '.']) !== 0) failedSteps++;
if (run('typecheck (tsc, every package)', bin('turbo'), ['run', 'typecheck', '--output-logs=errors-only']) !== 0) failedSteps++;

const outDir = join(root, '.test-results');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const outFile = join(outDir, 'vitest.json');
const vitestStatus = run('tests (vitest)', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${outFile}`]);

let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(readFileSync(outFile, 'utf8'));
  passed = report.numPassedTests;
  failed = report.numFailedTests + (report.numTotalTests === 0 ? 1 : 0);
  // A suite that failed to load counts as a failure, even with no test in it.
  failed += report.testResults.filter((f) => f.status === 'failed' && f.assertionResults.every((a) => a.status !== 'failed')).length;
  // A test that never ran (its test process died under it) is a failure too: nothing here is skipped.
  failed += report.testResults.flatMap((f) => f.assertionResults).filter((a) => a.status === 'pending' || a.status === 'todo').length;
  // Errors outside any test (an unhandled rejection, a test process that exited) fail the run.
  if (vitestStatus !== 0 && failed === 0) failed = 1;
} catch (e) {
  console.error(`could not read the vitest report: ${e.message}`);
  failed += 1;
}
if (failedSteps > 0) console.log(`\n${failedSteps} step(s) before the tests failed (see above)`);
console.log(`tests: ${passed} passed, ${failed + failedSteps} failed`);
process.exit(vitestStatus !== 0 || failed + failedSteps > 0 ? 1 : 0);
