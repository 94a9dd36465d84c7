// Runs the supervision measurements in this (fresh) process and prints the samples as JSON on
// the last line of stdout.
import { supervisionScenarios } from './supervision.js';

const [mode, roundArg] = process.argv.slice(2);
const quick = mode === 'quick';
const round = Number(roundArg ?? 0);
const samples: Array<{ scenario: string; contestant: string; round: number; value: number; verified: boolean; note?: string }> = [];
for (const s of supervisionScenarios) {
  await s.run(true); // untimed warm-up
  const r = await s.run(quick);
  samples.push({ scenario: s.id, contestant: 'holdfast', round, value: r.value, verified: r.verified, ...(r.note ? { note: r.note } : {}) });
  process.stderr.write(`  ${s.id} round ${round + 1}: ${r.value.toFixed(3)} ${s.unit}${r.verified ? '' : ' (NOT VERIFIED)'}\n`);
}
console.log(JSON.stringify(samples));
