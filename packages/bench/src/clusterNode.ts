// One node of the cluster benchmark, as a process of its own: `clusterNode.ts <nats> <postgres>
// <node> <cluster> <shards>`. It serves its share of the Echo actors' shards and, on the same
// NATS server, a raw request-reply responder (`bench.<cluster>.raw.<node>`) doing the least a
// hand-written RPC does: parse the JSON call, answer JSON. Prints `ready` once joined; drains on
// SIGTERM.
import { createSystem } from '@holdfast/core';
import { natsCluster } from '@holdfast/nats';
import { postgresStore } from '@holdfast/store-postgres';
import { connect } from '@nats-io/transport-node';
import { Echo, rawSubject } from './cluster.js';

const [servers, pgUrl, node, name, shardsArg] = process.argv.slice(2) as [string, string, string, string, string];
const shards = Number(shardsArg);
const system = createSystem({
  store: postgresStore({ connectionString: pgUrl }),
  durable: { types: [Echo] },
  cluster: natsCluster({ servers, node, name, shards }),
});
await system.openStore();

const nc = await connect({ servers, noAsyncTraces: true });
const enc = new TextEncoder();
const dec = new TextDecoder();
nc.subscribe(rawSubject(name, node), {
  callback: (err, m) => {
    if (err !== null) return;
    const call = JSON.parse(dec.decode(m.data)) as { input: { n: number } };
    m.respond(enc.encode(JSON.stringify({ ok: true, value: call.input.n })));
  },
});

process.on('SIGTERM', () => {
  void nc
    .close()
    .then(() => system.shutdown())
    .then(() => process.exit(0));
});
process.stdout.write('ready\n');
