// Runs one scenario group for one contestant in this (fresh) process and prints the samples as
// JSON on the last line of stdout. A fresh process per contestant keeps every call site in the
// scenario code monomorphic, as in an application; main.ts interleaves these processes.
// `*` runs every contestant in this process, without warm-up: the smoke run (--quick) checks
// that everything works and verifies, it measures nothing worth publishing.
import { contestants } from './contestants/index.js';
import { groups } from './scenarios.js';

const [group, mode, contestantName, roundArg] = process.argv.slice(2);
const scenarios = groups[group ?? ''];
const all = contestantName === '*';
const chosen = all ? contestants : contestants.filter((c) => c.name === contestantName);
if (scenarios === undefined || chosen.length === 0) {
  console.error(`usage: runGroup <group> <quick|full> <contestant|*> <round>; groups: ${Object.keys(groups).join(', ')}`);
  process.exit(2);
}
const quick = mode === 'quick';
/** Untimed passes before each timed one (every contestant gets the same). */
const WARM_UP_PASSES = 3;
const round = Number(roundArg ?? 0);
const samples: Array<{ scenario: string; contestant: string; round: number; value: number; verified: boolean; note?: string }> = [];
for (const contestant of chosen) {
  for (const s of scenarios) {
    if (s.applies !== undefined && !s.applies(contestant)) continue;
    // Untimed warm-up passes, each on a system of its own, so that what is measured is the steady
    // state: the JIT has seen every path, and what the first systems' start and shutdown taught
    // it (deoptimisations, reoptimisations) is behind it. One pass was not enough: the next
    // measurement still ran partly in code being reoptimised (up to ×1.8 slower for the same code).
    if (!all && s.warmUp !== false) for (let i = 0; i < WARM_UP_PASSES; i++) await s.run(contestant, true);
    const r = await s.run(contestant, quick);
    samples.push({ scenario: s.id, contestant: contestant.name, round, value: r.value, verified: r.verified, ...(r.note ? { note: r.note } : {}) });
    process.stderr.write(`  ${s.id} round ${round + 1} ${contestant.name}: ${r.value.toFixed(3)} ${s.unit}${r.verified ? '' : ' (NOT VERIFIED)'}\n`);
  }
}
console.log(JSON.stringify(samples));
