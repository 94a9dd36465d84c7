// Runs one cluster measurement in this (fresh) process and prints its samples as JSON on the last
// line of stdout: `remote` or `failover`. The NATS server and the (fresh) PostgreSQL database come
// from HOLDFAST_BENCH_NATS and HOLDFAST_BENCH_PG.
import { measureFailover, measureRemote } from './cluster.js';

const [mode, roundArg, what] = process.argv.slice(2);
const quick = mode === 'quick';
const round = Number(roundArg ?? 0);
const nats = process.env.HOLDFAST_BENCH_NATS ?? '';
const pg = process.env.HOLDFAST_BENCH_PG ?? '';
if ((what !== 'remote' && what !== 'failover') || nats === '' || pg === '') {
  console.error('usage: HOLDFAST_BENCH_NATS=… HOLDFAST_BENCH_PG=… runCluster <quick|full> <round> remote|failover');
  process.exit(2);
}
const samples = what === 'remote' ? await measureRemote(nats, pg, quick, round) : await measureFailover(nats, pg, quick, round);
for (const s of samples)
  process.stderr.write(
    `  ${s.scenario} round ${round + 1} ${s.contestant}: ${s.value.toFixed(2)}${s.verified ? '' : ' (NOT VERIFIED)'}${s.note ? ` (${s.note})` : ''}\n`,
  );
console.log(JSON.stringify(samples.map((s) => ({ ...s, round }))));
// The NATS and PostgreSQL clients may keep the loop alive a moment longer: nothing is left to do.
process.exit(0);
