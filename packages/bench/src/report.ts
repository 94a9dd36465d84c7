import { clusterMeasurements, FAILOVER, LEASE_TTL_MS, REMOTE } from './cluster.js';
import { CONFIG_TITLES, DURABLE, durableMeasurements, STORE_CONFIGS } from './durable.js';
import { groups, type Scenario } from './scenarios.js';
import { supervisionScenarios } from './supervision.js';
import { HOLDFAST_WORKER, workerMeasurements } from './workers.js';

export interface RawSample {
  scenario: string;
  contestant: string;
  round: number;
  value: number;
  verified: boolean;
  note?: string;
}

export interface RunResult {
  date: string;
  quick: boolean;
  machine: { cpu: string; cores: number; memoryGiB: number; platform: string };
  versions: { node: string; core: string; [peer: string]: string };
  contestants: Array<{ name: string; semantics: string }>;
  samples: RawSample[];
}

/** One table row: a contestant's median in a scenario, its spread and its ratio to the floor. */
export interface Row {
  scenario: string;
  contestant: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  rounds: number;
  /** The median over rounds of (this ÷ the floor in the same round), oriented so that > 1 = worse. */
  ratio: number;
  verified: boolean;
  note: string;
}

const FLOOR = 'floor (hand-written owner loop)';

/** The prose under the tables: what the floor is, what Holdfast adds, where the gaps are. */
const READING = [
  '- **The floor** is the smallest honest owner loop: a ring-buffer mailbox per actor, one dispatcher',
  '  draining ready actors from a microtask, the reply a resolve function carried in the message, and',
  '  the handler called as a function. It has no deadlines, validation, supervision or call chain.',
  '  Every contestant, the floor included, is driven through the same small adapter class.',
  '- **The peers** are what a Node developer would pick instead: a Map behind async-mutex (shared',
  '  memory and a lock), nact, xstate v5, comedy (in-memory mode) and Effect (an owner fiber reading',
  '  a Queue, replies through Deferreds). Each is used the way its documentation shows; the table at',
  '  the end says what each one guarantees, which is not the same thing everywhere (timeouts, FIFO,',
  '  validation).',
  '- **What Holdfast adds per message:** a deadline on every ask (one timer per system, asks kept in',
  '  lanes of young 64-slot buckets), a settle-exactly-once reply channel, mailbox bounds and',
  '  overflow policies, the call chain for deadlock detection and drain, crash handling with',
  '  restart, turn counting for the steward, and (when on) zod validation of inputs and replies.',
  '- **Validation** checks every input against its zod schema before it is queued, and every reply',
  "  outside production: compare the 'validation on' rows. A protocol's schemas are compiled once,",
  '  when it is defined, into plain checking functions that build the same output zod would (unknown',
  '  keys stripped, defaults applied, a fresh object); a value they do not accept, or a schema they do',
  '  not cover (unions, transforms, refinements, strict objects), goes to zod itself, which writes',
  '  every issue. That took a validated tell from about 90 ns to about 50 ns and a validated fan-out',
  "  from ×2.2 of the floor to below it. Then: the compiled check runs inline in the sender's path",
  '  (`ask` and `tell` call it themselves and take the checked path only when it defers to zod), and',
  '  the generated code is kept small (a primitive is its own output, an integer check is the whole',
  "  number test, a required key's absence is caught by its type test), so that V8 still inlines the",
  "  whole send path into the caller: a bigger check pushed `Cell.ask` out of the caller's inlining",
  '  budget and cost more than the check itself. A validated tell went from 48 to 34 ns (3–4 ns over',
  '  an unvalidated one), a validated pipelined ask from about 220 to about 185 ns. What remains is',
  "  building the fresh input object, which is what keeps the caller's object and the actor's state",
  '  apart. `validate: { input: false }` (per actor or system) skips it for trusted in-process',
  '  callers, with the types still enforced by TypeScript.',
  '- **Tails** (p99, p99.9) are read from 100,000 sequential asks, every one timed, in one process.',
  '  Below a microsecond they are set by the garbage collector: a scavenge of the young generation',
  '  takes 0.3–1 ms and lands on one ask in a few thousand, so p99.9 measures how much garbage an ask',
  '  makes (one reply channel, one promise) more than how long it takes.',
  '- **The burst** sends 1,000,000 tells before the confirming ask: the mailbox grows to a million',
  '  slots (its ring doubles), and the figure includes the collector moving that ring and the inputs.',
  '  The bench raises the mailbox bound to two million for it; the default bound is 10,000, so an',
  '  application gets `MAILBOX_FULL` dead letters instead of unbounded growth.',
  '  Map + async-mutex does not run it: its lock queue slows down as it grows (100,000 queued',
  '  calls took about 5 s), and a million take many minutes.',
  '- **Spawn and ask** is the total time to spawn 100,000 actors and ask each once. A third of it is',
  '  the garbage collector moving the new actors out of the young generation (which is also why the',
  '  figure moves by ±30% between runs, the floor included): an actor is now about 465 bytes (the',
  "  cell, which is its own mailbox, its ring, its ref, its state, its id and its entry in the system's",
  "  registry) against the floor's 430. It was 646 (712 before that). What took it there: the cell holds",
  '  its mailbox ring itself instead of a mailbox object (−72 bytes, one load less per send and turn);',
  "  a steward's children are a list through the children's own links instead of a set (no entry",
  '  and identity hash per spawn); an actor type whose handlers cannot see a third argument (they',
  '  declare at most two plain parameters and never name `arguments`) gets no `ctx` object at all',
  '  (−64 bytes, about 0.15 µs a spawn; any doubt, such as a default or rest parameter, keeps it);',
  '  no field of a cell ever holds a fractional number (below); the classes every actor has one',
  '  of (its ref, its cell) have no `#private` methods, which give every instance a brand field of',
  '  its own (8 bytes each); what the actors of one type share (their system, definition, options',
  '  and bound handlers) is held once per type, not by every cell; and a cell keeps its yes/no states',
  '  (queued, busy, in a handler, alive) as bits of one field and its system messages with its rare',
  '  parts (the cell went from 240 to 208 bytes). The rest is the registry of ids, which the floor',
  '  does not have. It was a `Map` keyed by the id: to find a string key, a Map visits every key on',
  '  its hash chain, and each is a string somewhere else in the heap (perf: `FindOrderedHashMapEntry`',
  '  was 9% of a spawn loop, two thirds of that loading those keys). It is now keyed by a 30-bit hash',
  '  of the id, computed in JavaScript with a per-process seed, which the map compares where it is',
  '  stored; ids that share a hash (about 5 in 100,000, or any number made to) are kept by id in a',
  "  second map, which uses V8's own seeded string hashing, so colliding ids cost what a Map costs.",
  '  A spawn registers its actor in one look-up, before `init` runs. Spawning 100,000 actors in a',
  '  plain loop went from 96 to 81 ms (the floor: 47; Holdfast without any registry: 47). What is',
  '  left is the table itself: at 100,000 actors it is larger than the cache, and an insert costs',
  '  about two cache misses (some 0.2 µs). Tried and dropped: an open-addressing table on typed',
  '  arrays, and a small young table in front of the big one behind a Bloom filter (both slower',
  '  than the map), skipping the option-key check (within the noise).',
  '- **Hidden classes.** A cell stored the wall-clock milliseconds of its last turn, kept as a',
  '  difference of two `Date.now()` readings: whole, but a double. The first double stored into a',
  '  field that had held small integers changed the hidden class of every cell, a quarter second',
  '  into every system, and threw away the optimized code that knew the old one (the turn loop and',
  '  every handler saw "wrong map" deoptimizations). Ask deadlines (a `performance.now()` sum) did',
  '  the same to every reply channel and gave each one a number box of its own. Both are kept as',
  '  small integers now (deadlines rounded up to the millisecond, so never early), and so is the',
  '  heartbeat time of a turn in flight.',
  '- **Tell throughput.** Measured on 5,000-tell bursts, split in the two halves of a tell: the',
  "  sender's side costs 16 ns unvalidated and 17 ns validated (the floor's 15, which allocates a",
  '  message object that Holdfast does not); the turn loop costs about 8.8 ns a turn against the',
  "  floor's 3.6 (it was 12, then 10.5). Runs of synchronous tells take a loop of their own: no",
  '  per-turn checks for observers, asks or async handlers, and the mark that a handler is running',
  '  (what `ctx` and the call chain read) set once per run instead of twice per turn. The last steps:',
  '  an imported binding is live, and optimized code loads it from its module and checks that it is',
  '  initialized at every read (a load, a compare and a branch per use, in the turn loop and in every',
  '  send); the hot modules now read their imports through module constants, which V8 folds into',
  "  the code (−1 ns a turn, −3 ns a validated send). A ref keeps its actor type's message table and",
  '  whether it checks inputs (one dependent load less before a send can start), and a run of tells',
  '  tests one field for waiting senders and system messages. What remains per turn are the checks',
  '  between turns (busy, status, a requested yield, the next message being a tell), the chain link',
  '  of a tell whose handler asked someone, and clearing the slots. Tried and dropped: a plain array',
  '  instead of the ring for the ready queue (no gain), a bigger per-actor turn budget (0.5 ns).',
  '- **Validated tells sent from a handler** (ping-pong with validation on) cost about 15–18 ns a',
  '  hop more than unvalidated ones, far more than the check: the handler is inlined into the turn',
  "  loop and the tell into the handler, and with the check the whole no longer fitted V8's inlining",
  '  budget (920 bytes of bytecode per optimized function, counting what every inlined function',
  '  inlines itself), so `tell` ran as a call of its own with a megamorphic message lookup. What filled',
  '  the budget were small accessors: setting a cell\'s "in a handler" bit through a setter cost 41',
  '  bytes at each of its six uses in the loop, and each getter on the send path (`mailbox`, `opts`,',
  '  `waiters`, `scheduled`) a few more. The loop and the send path now write the bits and read the',
  "  fields directly, and `--trace-turbo-inlining` shows the whole validated send (the ref's `tell`,",
  "  the compiled check, the cell's `tell`, the ring's `push`, the dispatcher's `schedule`) inlined",
  '  into the turn loop again: a validated hop costs 7–12 ns more than an unvalidated one (the check',
  '  and the fresh input object).',
  '- **Ping-pong** pays a tell and a dispatch per hop: every hop schedules the other actor through',
  '  the dispatcher. It now runs 1,000,000 hops per measurement: at 200,000 (about 14 ms) the',
  '  figure caught the JIT re-optimizing the turn loop for the new actor type rather than steady',
  '  state (the first measurements after warm-up were 30–50% slower than the next ones).',
  '- **Method for slow contestants.** Throughput and latency runs stop at their count or after 0.8 s,',
  '  whichever comes first, and the figure is what was done in that time (still verified by the',
  '  final counts).',
  '- **Variance.** On these 2-core virtual machines a single figure can move by ±30% between',
  '  processes, the floor is bimodal on tells (about 24 or about 32 M/s), and the latency tails are',
  "  bimodal per process, the floor's and Holdfast's alike (a process's p99 is about 0.65 or about",
  '  1.8 µs): the messaging group runs 8 rounds, so that the median ratio does not hinge on where four',
  '  processes landed. Hence the fresh process per measurement, the paired ratios and the median.',
  "  Tell bursts are kept at 5,000 so that they fit V8's young generation: bursts of 50,000 measured",
  '  whether the GC had grown its nursery, not the frameworks.',
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const scenarioById = new Map<string, Scenario>(Object.values(groups).flatMap((g) => g.map((s) => [s.id, s] as const)));

export function summarise(run: RunResult): Row[] {
  const rows: Row[] = [];
  for (const [id, s] of scenarioById) {
    const forScenario = run.samples.filter((x) => x.scenario === id);
    if (forScenario.length === 0) continue;
    const floorByRound = new Map(forScenario.filter((x) => x.contestant === FLOOR).map((x) => [x.round, x.value]));
    for (const c of run.contestants) {
      const mine = forScenario.filter((x) => x.contestant === c.name);
      if (mine.length === 0) continue;
      const values = mine.map((x) => x.value);
      const m = median(values);
      rows.push({
        scenario: id,
        contestant: c.name,
        unit: s.unit,
        median: m,
        min: Math.min(...values),
        max: Math.max(...values),
        rounds: values.length,
        // Paired within each round (measured minutes apart, machines drift), then the median.
        ratio: median(
          mine.flatMap((x) => {
            const f = floorByRound.get(x.round);
            return f === undefined ? [] : [s.better === 'lower' ? x.value / f : f / x.value];
          }),
        ),
        verified: mine.every((x) => x.verified),
        note: mine.find((x) => x.note)?.note ?? '',
      });
    }
  }
  return rows;
}

/** One row of the supervision table: Holdfast alone, median over rounds. */
export interface SupervisionRow {
  scenario: string;
  title: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  rounds: number;
  verified: boolean;
  note: string;
}

export function summariseSupervision(run: RunResult): SupervisionRow[] {
  const rows: SupervisionRow[] = [];
  for (const s of supervisionScenarios) {
    const mine = run.samples.filter((x) => x.scenario === s.id);
    if (mine.length === 0) continue;
    const values = mine.map((x) => x.value);
    rows.push({
      scenario: s.id,
      title: s.title,
      unit: s.unit,
      median: median(values),
      min: Math.min(...values),
      max: Math.max(...values),
      rounds: values.length,
      verified: mine.every((x) => x.verified),
      note: mine.find((x) => x.note)?.note ?? '',
    });
  }
  return rows;
}

/** One row of the worker-host table: Holdfast's median, its baseline's, and the paired ratio. */
export interface WorkerRow {
  scenario: string;
  title: string;
  unit: string;
  baseline: string | null;
  baselineMedian: number | null;
  median: number;
  min: number;
  max: number;
  /** Holdfast over the baseline (lower-is-better units) or the baseline over Holdfast, paired per round. */
  ratio: number | null;
  target: string;
  rounds: number;
  verified: boolean;
  note: string;
}

export function summariseWorkers(run: RunResult): WorkerRow[] {
  return summariseAgainstBaseline(run, workerMeasurements, HOLDFAST_WORKER);
}

/**
 * One row per measurement that `contestant` has samples of, next to its baseline: medians over
 * rounds, and the cost ratio paired within each round (Holdfast over the baseline for times, the
 * baseline over Holdfast for rates), then its median.
 */
function summariseAgainstBaseline(
  run: RunResult,
  measurements: ReadonlyArray<{ id: string; title: string; unit: string; better: 'lower' | 'higher'; baseline: string | null; target: string }>,
  contestant: string,
): WorkerRow[] {
  const rows: WorkerRow[] = [];
  for (const m of measurements) {
    const mine = run.samples.filter((x) => x.scenario === m.id && x.contestant === contestant);
    if (mine.length === 0) continue;
    const base = m.baseline === null ? [] : run.samples.filter((x) => x.scenario === m.id && x.contestant === m.baseline);
    const baseByRound = new Map(base.map((x) => [x.round, x.value]));
    const ratios = mine.flatMap((x) => {
      const b = baseByRound.get(x.round);
      return b === undefined ? [] : [m.better === 'lower' ? x.value / b : b / x.value];
    });
    const values = mine.map((x) => x.value);
    rows.push({
      scenario: m.id,
      title: m.title,
      unit: m.unit,
      baseline: m.baseline,
      baselineMedian: base.length === 0 ? null : median(base.map((x) => x.value)),
      median: median(values),
      min: Math.min(...values),
      max: Math.max(...values),
      ratio: ratios.length === 0 ? null : median(ratios),
      target: m.target,
      rounds: values.length,
      verified: [...mine, ...base].every((x) => x.verified),
      note: mine.find((x) => x.note)?.note ?? '',
    });
  }
  return rows;
}

/** The durable measurements, each next to its baseline (same shape as the worker rows). */
export function summariseDurable(run: RunResult): WorkerRow[] {
  return summariseAgainstBaseline(run, durableMeasurements, DURABLE);
}

/** The cluster measurements: remote asks next to raw NATS, failover on its own. */
export function summariseCluster(run: RunResult): WorkerRow[] {
  return [...summariseAgainstBaseline(run, clusterMeasurements, REMOTE), ...summariseAgainstBaseline(run, clusterMeasurements, FAILOVER)];
}

const CLUSTER_READING = [
  '- **Remote asks.** This process is one node, a second process is another; both are connected to one',
  '  `nats-server` on loopback (PostgreSQL is the store). Holdfast asks an actor that the other node owns:',
  '  the input checked by the protocol here, the call sent as JSON to the shard’s subject, checked again',
  '  there, a turn of the actor (a read-only message, so that no commit is timed), the reply checked',
  '  there and here. The raw figure is a NATS request from the same process to a responder in the same',
  '  other process that parses the same JSON call and answers JSON: the least a hand-written RPC does.',
  '  The raw side uses the NATS client’s `request()` with its per-request stack traces off',
  '  (`noAsyncTraces`), as a careful hand-written client would. Holdfast takes its replies on one',
  '  wildcard inbox subscription of its own instead: `request()` still makes an Error for every request',
  '  (on the way out of each one, answered or not), and that was a fifth of a remote ask’s CPU on the',
  '  asking node. That is why 64 in flight can beat the raw client. Ratios are paired per round: times',
  '  are Holdfast over raw, rates raw over Holdfast.',
  '- **Failover.** This process and a second node stay up; each trial starts a third node, waits until it',
  '  owns its share, writes to an actor it owns (a committed bump), SIGKILLs it, and asks that actor',
  '  again at once: the time is from the kill to that ask’s reply, from whichever node took the shard',
  '  (and the check is that it answers the value written before the kill). One ask, never retried by the',
  '  caller: a read-only ask in flight to a dead node is sent again by the cluster to the new owner. The',
  `  lease TTL is the default ${LEASE_TTL_MS.toLocaleString('en-US')} ms; a killed node's connection closes, so the first ping to it`,
  '  fails (no responders) and its leases are taken at once, well before they would expire. A node cut',
  '  off by the network (no close) is found after `suspectAfter` missed pings (default 2 × 250 ms), and',
  '  its leases expire after the TTL at the latest.',
  '- **The anchors** are published defaults, not measured here: Akka Cluster Sharding fails over in about',
  '  45 s by default (failure detection plus the downing provider’s stable-after), Effect Cluster up to',
  '  35 s (its shard lock expiry), Orleans and Rivet about 15 s.',
];

function renderCluster(rows: WorkerRow[]): string[] {
  if (rows.length === 0) return [];
  const out = ['## A cluster on NATS', ''];
  out.push('Asks between two node processes against raw NATS request-reply between the same two processes,');
  out.push('and failover after a SIGKILL of the node that owns the actor asked (a fresh pair of processes for');
  out.push('each round; medians over rounds, the ratio paired within each round).');
  out.push('');
  const by = new Map(rows.map((r) => [r.scenario, r]));
  const glance: string[] = [];
  for (const id of ['cluster-seq-p50', 'cluster-seq-p99', 'cluster-1', 'cluster-64']) {
    const r = by.get(id);
    if (r?.ratio == null) continue;
    glance.push(`- ${r.title}: ×${r.ratio.toFixed(2)} of raw NATS (target ≤ 1.3) ${r.ratio <= 1.3 ? '✓' : '✗'}`);
  }
  const p50 = by.get('cluster-failover-p50');
  const max = by.get('cluster-failover-max');
  if (p50 !== undefined && max !== undefined) {
    glance.push(
      `- Failover, SIGKILL to the first reply from the new owner: median ${Math.round(p50.median)} ms (target ≤ 1,000) ${p50.median <= 1_000 ? '✓' : '✗'},`,
    );
    glance.push(
      `  slowest ${Math.round(max.median)} ms (target ≤ ${(LEASE_TTL_MS + 1_000).toLocaleString('en-US')}) ${max.median <= LEASE_TTL_MS + 1_000 ? '✓' : '✗'}; Akka ~45 s, Effect Cluster ~35 s, Orleans and Rivet ~15 s`,
    );
  }
  if (glance.length > 0) out.push(...glance, '');
  out.push(...baselineTable(rows, '× baseline', (r) => (r.ratio === null ? '—' : `×${r.ratio.toFixed(2)}`)));
  out.push('');
  out.push(...CLUSTER_READING);
  out.push('');
  return out;
}

const DURABLE_READING = [
  '- **The floor** is what a careful engineer writes by hand on the same store: one table, prepared',
  '  statements (PostgreSQL: one `unnest` upsert per batch), the values in a Map, and the same group',
  '  commit — every write waiting when a commit starts goes into that one transaction, one commit in',
  '  flight at a time. With one ask in flight each commit holds one row: the sequential figures are the',
  '  cost of one fsync’d transaction.',
  '- **Holdfast** runs a durable actor per counter (`system.ref`), its state checked by its zod schema at',
  '  every commit, each reply held until its state is committed (the output gate), fenced writes',
  '  (revision and epoch checked in the transaction). Ratios are cost ratios paired per round: times',
  '  are Holdfast over the floor, rates are the floor over Holdfast (×1.00 = as good as the floor;',
  '  ×1.43 = 0.7× its throughput).',
  '- **Steady state.** Each contestant first makes 5,000 untimed asks (PostgreSQL: 2,000) to the counter',
  '  it then times, as the in-memory measurements warm up. A durable actor’s first few thousand asks',
  '  after it first appears are slower (about ×1.5 of the floor on SQLite NORMAL, while V8 settles the',
  '  durable path); the floor, a dozen lines, settles at once.',
  '- **Variance.** The sequential SQLite NORMAL figure is bimodal on these 2-core machines: in about',
  '  one process in three Holdfast’s p50 is 35–40 µs instead of about 22 µs (the same code, the same',
  '  warm-up; the floor, a tenth of the work between commits, stays put). Hence five rounds, and the',
  '  median; the spread column shows both modes when they occur.',
  '- **What made the commit cheaper.** SQLite writes a batch’s rows with one statement per 64 rows',
  '  (an `UPDATE … FROM (VALUES …)`, the epoch check a subquery run once per statement) instead of',
  '  one statement per row: 2.6 → 1.9 µs a row, as cheap as the floor’s upsert. PostgreSQL calls its',
  '  commit function through a named statement, and the function keeps one generic plan',
  '  (`plan_cache_mode`): planning the call and its statements again at every commit was most of',
  '  the 130 µs a commit by which it trailed the floor.',
  '- **`synchronous=NORMAL`** (SQLite) skips the fsync of each commit in WAL mode: a crash of the',
  '  process loses nothing, a power cut may lose the last commits. FULL is the default.',
  '- **Read-only asks** (`readonly: true`) never write and, with nothing waiting to be committed, leave',
  '  at once: the ratio is to the same ask to an in-memory actor in the same process.',
  '- **A million actors**: each touched once with a write, 1,000 in flight, SQLite NORMAL, `maxActive`',
  '  10,000; idle actors past it are put to sleep (their state is in the file). Peak resident memory of',
  '  the whole process, sampled every 50 ms; the note says how many were awake at most.',
];

/** A table of measurements each next to its baseline (worker-hosted and durable actors); `ratioOf` writes the ratio column. */
function baselineTable(rows: WorkerRow[], ratioHeader: string, ratioOf: (r: WorkerRow) => string): string[] {
  const out = [`| measurement | baseline | Holdfast | spread | ${ratioHeader} | target | rounds | verified |`, '|---|---:|---:|---:|---:|---|---:|:---:|'];
  for (const r of rows) {
    const base = r.baselineMedian === null ? '—' : `${r.baseline}: ${fmtWorker(r.baselineMedian, r.unit)}`;
    out.push(
      `| ${r.title}${r.note ? ` (${r.note})` : ''} | ${base} | ${fmtWorker(r.median, r.unit)} | ${fmtWorker(r.min, r.unit)} – ${fmtWorker(r.max, r.unit)} | ${ratioOf(r)} | ${r.target} | ${r.rounds} | ${r.verified ? 'yes' : '**no**'} |`,
    );
  }
  return out;
}

function renderDurable(rows: WorkerRow[]): string[] {
  if (rows.length === 0) return [];
  const out = ['## Durable actors', ''];
  out.push('Durable read-modify-write asks (increment a counter; the reply leaves once the new value is');
  out.push('committed) against a hand-written batched writer on the same store, a fresh process and a fresh');
  out.push('file or database for each contestant in each round (medians over rounds; the ratio is paired within');
  out.push('each round, then the median).');
  out.push('');
  const glanceLines = durableGlance(rows);
  if (glanceLines.length > 0) out.push(...glanceLines, '');
  out.push(...baselineTable(rows, '× baseline', (r) => (r.ratio === null ? '—' : `×${r.ratio.toFixed(2)}`)));
  out.push('');
  out.push(...DURABLE_READING);
  out.push('');
  return out;
}

/** The durable targets at a glance: throughput at 64 in flight, sequential latency. */
export function durableGlance(rows: WorkerRow[]): string[] {
  const by = new Map(rows.map((r) => [r.scenario, r]));
  const lines: string[] = [];
  for (const c of STORE_CONFIGS) {
    const t = by.get(`durable-64/${c}`);
    const p = by.get(`durable-seq-p50/${c}`);
    if (t?.ratio == null || p?.ratio == null) continue;
    lines.push(
      `- ${CONFIG_TITLES[c]}: 64 in flight at ${(1 / t.ratio).toFixed(2)}× the batched floor (target ≥ 0.7) ${1 / t.ratio >= 0.7 ? '✓' : '✗'}; sequential p50 ×${p.ratio.toFixed(2)} of one transaction (target ≤ 1.3) ${p.ratio <= 1.3 ? '✓' : '✗'}`,
    );
  }
  return lines;
}

const WORKER_READING = [
  '- **Round trip.** The raw figure is a plain `worker_threads` Worker echoing over a MessagePort of its',
  '  own: two `postMessage` calls and two thread wake-ups, nothing else. A worker-hosted ask adds the',
  "  stand-in's turn on the main thread (input validation, deadline, mailbox), the owner loop on the",
  '  thread (its turn, reply validation) and the reply channel; the wake-ups dominate both. The ratio is',
  '  Holdfast over raw, paired per round (×1.00 = as fast as the raw port).',
  '- **Pipelined.** Both keep 1,000 asks in flight. The raw port posts one message per ask; the host',
  '  batches what is sent in one tick into one `postMessage` (flat arrays, no object per message), so',
  '  it can pass the raw figure. The ratio is raw over Holdfast (below ×1.00 = faster than the raw port).',
  '- **CPU-bound jobs.** Two actors count primes, on the main thread and then on two worker threads',
  '  (plus the main thread, on this 2-core machine). The ratio is the gain in throughput; the delay row',
  '  is the p99 lateness of a 5 ms timer on the main thread while the jobs run — what a server’s',
  '  requests would wait.',
  '- **Recovery.** A handler that throws restarts its actor on the same thread. A stuck thread (a',
  '  handler in an endless loop) is found by its shared-memory heartbeat within the timeout plus one',
  '  sweep, terminated, and its actors restarted on the spare thread the host keeps booted, with their',
  '  modules already imported.',
];

function renderWorkers(rows: WorkerRow[]): string[] {
  if (rows.length === 0) return [];
  const out = ['## Worker-hosted actors', ''];
  out.push('Actors on worker threads (`@holdfast/workers`). Measured in one process per round, each figure');
  out.push('next to its baseline (medians over rounds; the ratio is paired within each round, then the median).');
  out.push('');
  out.push(
    ...baselineTable(rows, 'ratio', (r) => {
      const gain = workerMeasurements.find((m) => m.id === r.scenario)?.ratio === 'gain';
      return r.ratio === null ? '—' : gain ? `${(1 / r.ratio).toFixed(r.ratio < 0.1 ? 0 : 2)}× better` : `×${r.ratio.toFixed(2)}`;
    }),
  );
  out.push('');
  out.push(...WORKER_READING);
  out.push('');
  return out;
}

function fmtWorker(v: number, unit: string): string {
  if (unit.endsWith('/s')) return v < 10_000 ? `${v.toFixed(0)} ${unit}` : `${fmt(v, unit)} ${unit}`;
  return `${v.toFixed(unit === 'ms' ? 1 : 2)} ${unit}`;
}

const SUPERVISION_READING = [
  '- **Sweep over idle actors.** A steward keeps the set of its actors that are in the middle of an',
  '  async turn; the sweep looks at those only. An idle actor costs the sweep nothing, so the figure is',
  '  the timer callback itself, whatever the number of actors. (A synchronous turn cannot be watched',
  '  from its own thread: it ends before any timer can run. CPU-bound owners belong on worker threads.)',
  '- **Hang detection** is the sweep that finds 1% of the actors hung, plus what follows at once: the',
  '  `hung` and `crashed` events, the callers failed with `ACTOR_CRASHED` (reason `hung`), the zombie',
  '  turns fenced and the restarts (onStop, init, onStart) — about 50 µs per hung actor, mostly the',
  '  errors, their stack traces and the events.',
  '- **Restart** is a full cycle seen from a caller: an ask whose handler throws, its `ACTOR_CRASHED`',
  "  reply, the steward's decision, onStop, a fresh `init` and onStart, and the next ask answered by the",
  '  new incarnation. About half of it is building the two errors (the thrown one and `ACTOR_CRASHED`)',
  '  with their stack traces. A group restart stops and starts all ten children.',
];

function fmt(v: number, unit: string): string {
  if (unit.endsWith('/s')) return v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : `${(v / 1e3).toFixed(0)} k`;
  if (unit === 'bytes/actor') return v.toFixed(0);
  return v.toFixed(3);
}

const HOLDFAST = 'holdfast (validation off)';
const HOLDFAST_ON = 'holdfast (validation on)';

/** What a peer does that the reader must know beside its figure. */
const PEER_NOTES: Record<string, string> = {
  'xstate v5': 'runs the handler inside the caller’s `send`',
};

/** The targets: with validation on, ×1.5 of the floor (×3 for tails); with it off, ×1.3. */
function targetOf(id: string, validated: boolean): number {
  if (validated) return id.includes('-p99') ? 3 : 1.5;
  return 1.3;
}

/** The summary table: Holdfast with and without validation against the floor, its targets, and the best peer. */
function glance(rows: Row[]): string[] {
  const out = [
    '## At a glance',
    '',
    'Targets: with validation on (the default), ×1.5 of the floor for throughput and median latency and ×3',
    'for the tails; with validation off, ×1.3. The ratio is the median of per-round ratios to the floor.',
    '',
    '| scenario | Holdfast, validation on | × floor (target) | validation off | × floor (target) | best peer | Holdfast (on) vs best peer |',
    '|---|---:|---:|---:|---:|---|---:|',
  ];
  const mark = (ratio: number, target: number) => `×${ratio.toFixed(2)} (${ratio <= target ? '≤' : '**>**'} ×${target})`;
  for (const [id, s] of scenarioById) {
    const off = rows.find((r) => r.scenario === id && r.contestant === HOLDFAST);
    const on = rows.find((r) => r.scenario === id && r.contestant === HOLDFAST_ON);
    if (off === undefined && on === undefined) continue;
    const peers = rows.filter((r) => r.scenario === id && r.contestant !== FLOOR && !r.contestant.startsWith('holdfast') && r.verified);
    const best = peers.sort((a, b) => (s.better === 'lower' ? a.median - b.median : b.median - a.median))[0];
    const mine = on ?? off;
    const lead =
      best === undefined || mine === undefined
        ? ''
        : `${(s.better === 'lower' ? best.median / mine.median : mine.median / best.median).toFixed(1)}× ${s.better === 'lower' ? 'less' : 'more'}`;
    const peer =
      best === undefined
        ? '(none measured)'
        : `${best.contestant}: ${fmt(best.median, best.unit)}${PEER_NOTES[best.contestant] ? ` (${PEER_NOTES[best.contestant]})` : ''}`;
    out.push(
      `| ${s.title} | ${on ? `${fmt(on.median, on.unit)} ${on.unit}` : '—'} | ${on ? mark(on.ratio, targetOf(id, true)) : '—'} | ${off ? `${fmt(off.median, off.unit)} ${off.unit}` : '—'} | ${off ? mark(off.ratio, targetOf(id, false)) : '—'} | ${peer} | ${lead} |`,
    );
  }
  out.push('');
  return out;
}

export function renderMarkdown(
  run: RunResult,
  rows: Row[],
  supervision: SupervisionRow[] = [],
  workers: WorkerRow[] = [],
  durable: WorkerRow[] = [],
  cluster: WorkerRow[] = [],
): string {
  const out: string[] = [];
  out.push('# Benchmarks');
  out.push('');
  out.push('<!-- Generated by packages/bench (src/main.ts). Do not edit by hand: run the harness again. -->');
  out.push('');
  out.push('Reproduce with `npx -y pnpm@10 install && npx -y pnpm@10 bench` from the repository root');
  out.push('(`pnpm bench --quick` for a one-minute smoke run that does not rewrite this page).');
  out.push('');
  out.push(`Run on ${run.date.slice(0, 10)}: ${run.machine.cpu}, ${run.machine.cores} cores, ${run.machine.memoryGiB} GiB, ${run.machine.platform};`);
  const peers = Object.entries(run.versions)
    .filter(([k]) => k !== 'node' && k !== 'core')
    .map(([k, v]) => `${k} ${v}`);
  out.push(`Node ${run.versions.node}, @holdfast/core ${run.versions.core}${peers.length > 0 ? `; ${peers.join(', ')}` : ''}.`);
  out.push('');
  out.push('Method: every measurement runs in a fresh process (one scenario group, one contestant, after three');
  out.push('untimed warm-up passes, each on a system of its own, so that the JIT has settled; footprints, which');
  out.push('count bytes, have none), so that call sites stay monomorphic as in an application; rounds');
  out.push('interleave the contestants and rotate their order. Tables show');
  out.push('the median, the spread (min–max over rounds) and the ratio to the floor: within each round the');
  out.push('contestant is divided by the floor measured next to it, and the table gives the median of those');
  out.push('ratios (×1.00 = as good as the floor; higher = worse). Every measurement checks its final counts;');
  out.push('a row that fails the check is marked and does not count.');
  out.push('');
  out.push(...glance(rows));
  for (const [id, s] of scenarioById) {
    const rs = rows.filter((r) => r.scenario === id);
    if (rs.length === 0) continue;
    out.push(`## ${s.title}`);
    out.push('');
    out.push(`| contestant | median (${s.unit}) | spread | × floor | rounds | verified |${rs.some((r) => r.note) ? ' note |' : ''}`);
    out.push(`|---|---:|---:|---:|---:|:---:|${rs.some((r) => r.note) ? '---|' : ''}`);
    for (const r of rs) {
      out.push(
        `| ${r.contestant} | ${fmt(r.median, r.unit)} | ${fmt(r.min, r.unit)} – ${fmt(r.max, r.unit)} | ×${r.ratio.toFixed(2)} | ${r.rounds} | ${r.verified ? 'yes' : '**no**'} |${rs.some((x) => x.note) ? ` ${r.note} |` : ''}`,
      );
    }
    out.push('');
  }
  out.push('## Reading these numbers');
  out.push('');
  out.push(...READING);
  out.push('');
  if (supervision.length > 0) {
    out.push('## Supervision costs (Holdfast alone)');
    out.push('');
    out.push('The floor has no supervisor, so these are absolute figures: the median over fresh processes, with');
    out.push('the spread. Each measurement checks its outcome (no false hangs; exactly the hung actors found and');
    out.push('restarted; every restart served by a new incarnation).');
    out.push('');
    out.push('| measurement | median | spread | rounds | verified | size |');
    out.push('|---|---:|---:|---:|:---:|---|');
    for (const r of supervision) {
      out.push(
        `| ${r.title} | ${r.median.toFixed(3)} ${r.unit} | ${r.min.toFixed(3)} – ${r.max.toFixed(3)} | ${r.rounds} | ${r.verified ? 'yes' : '**no**'} | ${r.note} |`,
      );
    }
    out.push('');
    out.push(...SUPERVISION_READING);
    out.push('');
  }
  out.push(...renderWorkers(workers));
  out.push(...renderDurable(durable));
  out.push(...renderCluster(cluster));
  out.push('## What each contestant guarantees');
  out.push('');
  out.push('| contestant | semantics |');
  out.push('|---|---|');
  for (const c of run.contestants) out.push(`| ${c.name} | ${c.semantics} |`);
  out.push('');
  return `${out.join('\n')}\n`;
}
