// The debug REPL against nodes of a cluster (processes through the holdfast bin, real NATS and
// PostgreSQL): `.nodes`, `.shards`, and `.actors` across every node.
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetrics, runCli } from '../../src/cli.js';
import { ClusterNode, settled } from '../../src/cluster.js';
import { startNats, type TestNats } from '../../src/nats.js';
import { startPostgres, type TestPostgres } from '../../src/postgres.js';
import { request } from '../../src/service.js';

let nats: TestNats;
let pg: TestPostgres;
const dir = mkdtempSync(join(tmpdir(), 'holdfast-cluster-repl-'));
const nodes: ClusterNode[] = [];
beforeAll(async () => {
  [nats, pg] = await Promise.all([startNats(), startPostgres()]);
  pg.createDatabase('repl');
  for (const name of ['node-a', 'node-b']) nodes.push(new ClusterNode(name, { nats, pg, database: 'repl', cluster: 'repl', shards: 8, debugDir: dir }));
  for (const n of nodes) await n.start();
  await settled(nodes, 8);
}, 90_000);
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill()));
  await nats?.stop();
  pg?.stop();
});

const repl = (node: string, line: string, json = false) => runCli(['repl', '--socket', join(dir, `${node}.sock`), '--eval', line, ...(json ? ['--json'] : [])]);

describe('a node’s admin listener in a cluster', () => {
  it('/readyz is 200 while a member; /metrics has each shard, the nodes, hand-overs, lease renewals and remote asks', async () => {
    const a = nodes[0] as ClusterNode;
    expect(await a.ready()).toBe(true);
    const agent = new http.Agent();
    for (let i = 0; i < 8; i++) await request(agent, `${a.front}/witness/m${i}`, 'POST');
    const text = (await request(agent, `${a.service?.admin}/metrics`, 'GET')).body;
    const m = parseMetrics(text);
    const shardLines = text.split('\n').filter((l) => l.startsWith('holdfast_cluster_shard_owned{'));
    expect(shardLines).toHaveLength(8);
    expect(shardLines.filter((l) => l.endsWith(' 1'))).toHaveLength(4);
    const svc = 'service="cluster-node"';
    expect(m.get(`holdfast_cluster_nodes{${svc}}`)).toBe(2);
    expect(m.get(`holdfast_cluster_shards_taken_total{${svc}}`)).toBeGreaterThanOrEqual(4);
    expect(m.get(`holdfast_cluster_remote_asks_total{${svc}}`)).toBeGreaterThan(0);
    expect(m.get(`holdfast_cluster_remote_ask_duration_seconds_count{${svc},outcome="reply"}`)).toBeGreaterThan(0);
    expect(m.get(`holdfast_cluster_lease_renew_duration_seconds_count{${svc}}`)).toBeGreaterThan(0);
    // What it owns is what it took, less what it handed over (to node-b, which joined later) or lost.
    const taken = m.get(`holdfast_cluster_shards_taken_total{${svc}}`) as number;
    expect(taken - (m.get(`holdfast_cluster_handoffs_total{${svc}}`) as number) - (m.get(`holdfast_cluster_shards_lost_total{${svc}}`) as number)).toBe(4);
  });
});

describe('the REPL in a cluster', () => {
  it('.nodes lists the nodes and their shards; .shards names each shard’s node', async () => {
    const owned = await settled(nodes, 8);
    const text = await repl('node-a', '.nodes');
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('node-a is joined; 2 node(s) seen, 8 shards');
    expect(lines[1]).toMatch(/^node\s+shards\s+which$/);
    expect(lines[2]).toMatch(/^node-a \(this one\)\s+4\s+/);
    expect(lines[3]).toMatch(/^node-b\s+4\s+/);
    const shards = JSON.parse((await repl('node-b', '.shards', true)).stdout) as { nodes: Array<{ node: string; shards: number[] }> };
    expect(Object.fromEntries(shards.nodes.map((n) => [n.node, n.shards]))).toEqual(Object.fromEntries(owned));
    const table = (await repl('node-b', '.shards')).stdout.trimEnd().split('\n');
    expect(table).toHaveLength(9);
    for (const [node, list] of owned) for (const s of list) expect(table[s + 1]).toMatch(new RegExp(`^${s}\\s+${node}$`));
  });

  it('.actors lists the actors of every node, each with its node', async () => {
    const agent = new http.Agent();
    const where = new Map<string, string>();
    for (let i = 0; i < 12; i++) {
      const r = await request(agent, `${nodes[0]?.front}/witness/r${i}`, 'POST');
      where.set(`witness-r${i}`, (JSON.parse(r.body) as { node: string }).node);
    }
    expect(new Set(where.values())).toEqual(new Set(['node-a', 'node-b']));
    const json = JSON.parse((await repl('node-b', '.actors witness-r', true)).stdout) as {
      actors: Array<{ node: string; id: string }>;
      unreachable: unknown[];
    };
    expect(json.unreachable).toEqual([]);
    expect(new Map(json.actors.map((a) => [a.id, a.node]))).toEqual(where);
    const text = (await repl('node-a', '.actors witness-r1')).stdout.trimEnd().split('\n');
    expect(text[0]).toMatch(/^node\s+id\s+type\s+steward/);
    expect(
      text
        .slice(1)
        .map((l) => l.split(/\s+/).slice(0, 2).join(' '))
        .sort(),
    ).toEqual(['witness-r1', 'witness-r10', 'witness-r11'].map((id) => `${where.get(id)} ${id}`).sort());
  });
});
