// Load for the key-value service: readers and writers hammer a set of counter keys for a while,
// then the final values are checked against the writes that succeeded. Prints the rates and one
// JSON line with the results; exits 1 when a value is wrong or a request failed.
//
//   npm run load -- --url http://127.0.0.1:8082 --seconds 5 --readers 100 --writers 10 --keys 20
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8082' },
    seconds: { type: 'string', default: '5' },
    readers: { type: 'string', default: '100' },
    writers: { type: 'string', default: '10' },
    keys: { type: 'string', default: '20' },
  },
});
const url = values.url;
const seconds = Number(values.seconds);
const readers = Number(values.readers);
const writers = Number(values.writers);
const keys = Array.from({ length: Number(values.keys) }, (_, i) => `counter-${i}`);
const pick = () => keys[Math.floor(Math.random() * keys.length)] as string;

// node:http with keep-alive connections, one per client: fetch costs the load generator several
// times the CPU per request, and on a small machine the figures would measure fetch.
const agent = new http.Agent({ keepAlive: true, maxSockets: readers + writers });
function call(method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

// Start from zero: a counter left from an earlier run would not match this run's writes.
await Promise.all(keys.map((k) => call('DELETE', `/kv/${k}`)));

const until = Date.now() + seconds * 1_000;
const written = new Map<string, number>(keys.map((k) => [k, 0]));
let reads = 0;
let writes = 0;
let failures = 0;
/** A reader saw a counter go down: impossible when one owner serialises each key's writes. */
let regressions = 0;

async function writer(): Promise<void> {
  while (Date.now() < until) {
    const key = pick();
    const r = await call('POST', `/kv/${key}/incr?by=1`);
    if (r.status === 200) {
      writes++;
      written.set(key, (written.get(key) ?? 0) + 1);
    } else failures++;
  }
}

async function reader(): Promise<void> {
  const seen = new Map<string, number>();
  while (Date.now() < until) {
    const key = pick();
    const r = await call('GET', `/kv/${key}`);
    if (r.status === 200) {
      const { value } = JSON.parse(r.body) as { value: string };
      const n = Number(value);
      if (n < (seen.get(key) ?? 0)) regressions++;
      seen.set(key, n);
      reads++;
    } else if (r.status === 404) {
      reads++;
    } else {
      failures++;
    }
  }
}

const started = Date.now();
await Promise.all([...Array.from({ length: writers }, writer), ...Array.from({ length: readers }, reader)]);
const elapsed = (Date.now() - started) / 1_000;

const mismatches: Array<{ key: string; expected: number; actual: number }> = [];
for (const key of keys) {
  const r = await call('GET', `/kv/${key}`);
  const actual = r.status === 200 ? Number((JSON.parse(r.body) as { value: string }).value) : 0;
  const expected = written.get(key) ?? 0;
  if (actual !== expected) mismatches.push({ key, expected, actual });
}

const result = {
  readers,
  writers,
  seconds: Math.round(elapsed * 10) / 10,
  reads,
  writes,
  readsPerSecond: Math.round(reads / elapsed),
  writesPerSecond: Math.round(writes / elapsed),
  failures,
  regressions,
  mismatches,
};
console.log(`${readers} readers, ${writers} writers, ${result.seconds} s: ${result.readsPerSecond} reads/s, ${result.writesPerSecond} writes/s`);
console.log(
  mismatches.length === 0 && failures === 0 && regressions === 0
    ? `final values: all ${keys.length} counters equal the writes that succeeded`
    : `PROBLEMS: ${mismatches.length} wrong counters, ${failures} failed requests, ${regressions} counters seen going down`,
);
console.log(JSON.stringify(result));
agent.destroy();
process.exitCode = mismatches.length === 0 && failures === 0 && regressions === 0 ? 0 : 1;
