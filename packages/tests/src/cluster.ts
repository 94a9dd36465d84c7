// Nodes of a cluster as real processes: `holdfast run test/fixtures/clusterNode.ts --cluster …`
// through the tests package's own bin, on a NATS server and a PostgreSQL database of the test's.
import http from 'node:http';
import { join } from 'node:path';
import type { TestNats } from './nats.js';
import type { TestPostgres } from './postgres.js';
import { type RunningService, request, root, startService } from './service.js';

const testsDir = join(root, 'packages', 'tests');

export interface NodeSettings {
  readonly nats: TestNats;
  readonly pg: TestPostgres;
  readonly database: string;
  /** The cluster's name (its subjects and bucket): one per test. */
  readonly cluster: string;
  readonly shards?: number;
  readonly leaseTtlMs?: number;
  /** Serve the debug socket at `<dir>/<node>.sock` (for the REPL). */
  readonly debugDir?: string;
}

/** One node: running, paused (SIGSTOP) or down. */
export class ClusterNode {
  service: RunningService | null = null;
  paused = false;
  constructor(
    readonly name: string,
    readonly settings: NodeSettings,
  ) {}

  get running(): boolean {
    return this.service !== null;
  }

  get front(): string {
    if (this.service === null) throw new Error(`node ${this.name} is down`);
    return this.service.front;
  }

  async start(): Promise<void> {
    const s = this.settings;
    this.service = await startService(
      testsDir,
      [
        '--store',
        s.pg.url(s.database),
        '--cluster',
        s.nats.url,
        '--node',
        this.name,
        '--cluster-name',
        s.cluster,
        '--shards',
        String(s.shards ?? 16),
        '--lease-ttl',
        String(s.leaseTtlMs ?? 3_000),
        ...(s.debugDir === undefined ? ['--no-debug'] : ['--debug-socket', join(s.debugDir, `${this.name}.sock`)]),
        '--drain-timeout',
        '20000',
      ],
      {},
      'test/fixtures/clusterNode.ts',
    );
    this.paused = false;
  }

  /** SIGKILL: no drain, no hand-over; its leases are found dead by the others. */
  async kill(): Promise<void> {
    const s = this.service;
    if (s === null) return;
    this.service = null;
    if (this.paused) s.child.kill('SIGCONT');
    s.child.kill('SIGKILL');
    await s.exited;
  }

  /** SIGTERM: the drain (the node hands its shards over), then the exit code. */
  async terminate(): Promise<number | string> {
    const s = this.service;
    if (s === null) return 'down';
    this.service = null;
    s.child.kill('SIGTERM');
    return s.exited;
  }

  pause(): void {
    this.service?.child.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    this.service?.child.kill('SIGCONT');
    this.paused = false;
  }

  /** `GET /readyz` is 200. */
  async ready(): Promise<boolean> {
    if (this.service === null || this.paused) return false;
    try {
      const r = await request(new http.Agent(), `${this.service.admin}/readyz`, 'GET');
      return r.status === 200;
    } catch {
      return false;
    }
  }

  /** The shards this node serves, from its `/metrics`. */
  async shards(): Promise<number[]> {
    if (this.service === null) return [];
    const r = await request(new http.Agent(), `${this.service.admin}/metrics`, 'GET');
    const out: number[] = [];
    for (const m of r.body.matchAll(/^holdfast_cluster_shard_owned\{shard="(\d+)"[^}]*\} 1$/gm)) out.push(Number(m[1]));
    return out.sort((a, b) => a - b);
  }
}

/** Until every shard is served by exactly one of `nodes` (the running ones), each a fair share, or throw. */
export async function settled(nodes: readonly ClusterNode[], shards: number, timeoutMs = 20_000): Promise<Map<string, number[]>> {
  const end = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const owned = new Map<string, number[]>();
    for (const n of nodes) if (n.running && !n.paused) owned.set(n.name, await n.shards().catch(() => []));
    const all = [...owned.values()].flat().sort((a, b) => a - b);
    const fair = [...owned.values()].every((s) => s.length >= Math.floor(shards / owned.size) && s.length <= Math.ceil(shards / owned.size));
    if (all.length === shards && all.every((s, i) => s === i) && fair) return owned;
    last = JSON.stringify([...owned]);
    if (Date.now() > end) throw new Error(`the cluster did not settle: ${last}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
