// Runs one scenario group in this process: several rounds, contestants interleaved (the order
// rotates each round), and prints the raw samples as JSON on the last line of stdout.
import { contestants } from './contestants/index.js';
import { groups } from './scenarios.js';

const [group, mode] = process.argv.slice(2);
const scenarios = groups[group ?? ''];
if (scenarios === undefined) {
  console.error(`unknown group '${group}'; groups: ${Object.keys(groups).join(', ')}`);
  process.exit(2);
}
const quick = mode === 'quick';
const rounds = quick ? 2 : 5;
const samples: Array<{ scenario: string; contestant: string; round: number; value: number; verified: boolean; note?: string }> = [];
for (const s of scenarios) {
  // One untimed warm-up pass per contestant, so that the JIT has seen every path.
  for (const c of contestants) await s.run(c, true);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < contestants.length; k++) {
      const c = contestants[(k + round) % contestants.length];
      if (c === undefined) continue;
      const r = await s.run(c, quick);
      samples.push({ scenario: s.id, contestant: c.name, round, value: r.value, verified: r.verified, ...(r.note ? { note: r.note } : {}) });
      process.stderr.write(`  ${s.id} round ${round + 1}/${rounds} ${c.name}: ${r.value.toFixed(3)} ${s.unit}${r.verified ? '' : ' (NOT VERIFIED)'}\n`);
    }
  }
}
console.log(JSON.stringify(samples));
