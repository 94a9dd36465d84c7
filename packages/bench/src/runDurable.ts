// Runs one durable measurement in this (fresh) process and prints its samples as JSON on the last
// line of stdout: `rmw <config> <contestant>`, `readonly` or `million`. A PostgreSQL run reads its
// (fresh) database from HOLDFAST_BENCH_PG.
import { DURABLE, DURABLE_FLOOR, freshPlace, measureMillion, measureReadonly, measureRmw, type StoreConfig } from './durable.js';

const [mode, roundArg, what, config, who] = process.argv.slice(2);
const quick = mode === 'quick';
const round = Number(roundArg ?? 0);
let samples: Awaited<ReturnType<typeof measureRmw>>;
if (what === 'rmw') {
  const contestant = who === 'floor' ? DURABLE_FLOOR : DURABLE;
  samples = await measureRmw(contestant, freshPlace(config as StoreConfig, process.env.HOLDFAST_BENCH_PG ?? null), quick);
} else if (what === 'readonly') {
  samples = await measureReadonly(quick);
} else if (what === 'million') {
  samples = await measureMillion(quick);
} else {
  console.error('usage: runDurable <quick|full> <round> rmw <sqlite-full|sqlite-normal|postgres> <holdfast|floor> | readonly | million');
  process.exit(2);
}
for (const s of samples)
  process.stderr.write(`  ${s.scenario} round ${round + 1} ${s.contestant}: ${s.value.toFixed(2)}${s.verified ? '' : ' (NOT VERIFIED)'}\n`);
console.log(JSON.stringify(samples.map((s) => ({ ...s, round }))));
