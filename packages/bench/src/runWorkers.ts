// Runs the worker-host measurements in this (fresh) process and prints the samples as JSON on
// the last line of stdout.
import { runWorkerMeasurements } from './workers.js';

const [mode, roundArg] = process.argv.slice(2);
const round = Number(roundArg ?? 0);
const samples = await runWorkerMeasurements(mode === 'quick');
for (const s of samples)
  process.stderr.write(`  ${s.scenario} ${s.contestant} round ${round + 1}: ${s.value.toFixed(3)}${s.verified ? '' : ' (NOT VERIFIED)'}\n`);
console.log(JSON.stringify(samples.map((s) => ({ ...s, round }))));
