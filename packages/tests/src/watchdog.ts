// A watchdog for this package's test files (a vitest setup file). Vitest's own timeouts are
// timers: a test whose code spins (a loop of promises that never waits for I/O) starves them, and
// the run would hang without end. A thread of its own watches a counter the main thread bumps
// every second; when it stops moving for WATCHDOG_MS, the thread names the test that was running,
// kills the processes that test started, and kills this test process: vitest then reports the
// file as failed, and the run goes on.
import { Worker } from 'node:worker_threads';
import { beforeEach, expect } from 'vitest';

const WATCHDOG_MS = Number(process.env.HOLDFAST_TEST_WATCHDOG_MS ?? 90_000);

const beat = new Int32Array(new SharedArrayBuffer(4));
const ticker = setInterval(() => Atomics.add(beat, 0, 1), 1_000);
ticker.unref();

// CommonJS, run as its own thread: it writes with writeSync (the main thread, which would carry
// an asynchronous write, is the one that is stuck).
const watcher = `
const { workerData, parentPort } = require('node:worker_threads');
const { writeSync, readdirSync, readFileSync } = require('node:fs');
const beat = new Int32Array(workerData.beat);
let test = '(before the first test)';
parentPort.on('message', (name) => { test = name; });
let seen = Atomics.load(beat, 0);
let since = Date.now();
function descendants(pid) {
  const out = [];
  let tasks = [];
  try { tasks = readdirSync('/proc/' + pid + '/task'); } catch { return out; }
  for (const t of tasks) {
    let kids = '';
    try { kids = readFileSync('/proc/' + pid + '/task/' + t + '/children', 'utf8'); } catch {}
    for (const k of kids.split(' ').filter(Boolean)) out.push(Number(k), ...descendants(Number(k)));
  }
  return out;
}
setInterval(() => {
  const now = Atomics.load(beat, 0);
  if (now !== seen) { seen = now; since = Date.now(); return; }
  if (Date.now() - since < workerData.limitMs) return;
  writeSync(2, '\\nwatchdog: the event loop of this test process has not turned for ' + Math.round((Date.now() - since) / 1000) + ' s, in: ' + test + '\\nwatchdog: killing the processes it started, then the test process\\n');
  for (const pid of descendants(process.pid)) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  process.kill(process.pid, 'SIGKILL');
}, 1_000);
`;

const worker = new Worker(watcher, { eval: true, workerData: { beat: beat.buffer, limitMs: WATCHDOG_MS } });
worker.unref();
worker.on('error', (e) => {
  // The watchdog is a safety net: without it the tests still run.
  console.error(`watchdog: ${e.message}`);
});

beforeEach(() => {
  const state = expect.getState();
  worker.postMessage(`${state.testPath ?? '?'} > ${state.currentTestName ?? '?'}`);
});
