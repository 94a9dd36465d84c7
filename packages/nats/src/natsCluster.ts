import { InvalidArgument } from '@holdfast/core';
import type { Cluster } from '@holdfast/core/cluster';
import { checkKeys } from '@holdfast/core/host';
import { NatsCluster } from './internal/NatsCluster.js';
import { TOKEN } from './internal/wire.js';

/** Told how long things took, for metrics (`holdfast run` feeds `/metrics` with it). */
export interface ClusterObserver {
  /** An ask or tell to another node settled after `ms` (`ok`: with a reply). */
  remoteAsk?(ms: number, ok: boolean): void;
  /** A lease renewal answered after `ms`. */
  renewal?(ms: number): void;
}

/** Options of {@link natsCluster}. */
export interface NatsClusterOptions {
  /** The NATS servers: `nats://host:4222`, or several (the client fails over between them). */
  readonly servers: string | readonly string[];
  /** This node's name, unique among the live nodes (letters, digits, `-`, `_`). A restarted node may take its old name back. */
  readonly node: string;
  /** How many shards actor ids are spread over (default 64). Every node must agree; it cannot change while data exists. */
  readonly shards?: number;
  /** The cluster's name: its subjects and bucket (`holdfast_<name>`). Default `holdfast`. */
  readonly name?: string;
  /**
   * How long a lease lives without renewal (default 3 000 ms): the longest a shard stays unserved
   * when its owner vanishes without a trace (a network cut). Renewed every quarter of it. Every
   * node must use the same value (it is the bucket's TTL).
   */
  readonly leaseTtlMs?: number;
  /** How often each node pings the others and rebalances (default 250 ms). */
  readonly pingEveryMs?: number;
  /** How long a ping may take before it counts as missed (default 500 ms). */
  readonly pingTimeoutMs?: number;
  /**
   * Missed pings in a row before a node is declared dead and its shards are taken (default 2).
   * A node whose connection is gone (it died) is dead at its first ping. Lower is faster
   * failover; higher is fewer false suspicions of a node that is only slow.
   */
  readonly suspectAfter?: number;
  /** How long a hand-over waits for a shard's actors to finish before stopping them (default 5 000 ms). */
  readonly handOffTimeoutMs?: number;
  /** Replicas of the lease bucket (default 1; 3 in production, with three NATS servers). */
  readonly replicas?: number;
  /** How long connecting may take (default 5 000 ms). */
  readonly connectTimeoutMs?: number;
  /** Told how long remote asks and lease renewals take (for metrics; `holdfast run` feeds `/metrics` with it). */
  readonly observer?: ClusterObserver;
}

const KEYS = {
  servers: true,
  node: true,
  shards: true,
  name: true,
  leaseTtlMs: true,
  pingEveryMs: true,
  pingTimeoutMs: true,
  suspectAfter: true,
  handOffTimeoutMs: true,
  replicas: true,
  connectTimeoutMs: true,
  observer: true,
} as const;

/**
 * A cluster on NATS for `createSystem({ cluster })`: this process is node `node`. Needs a NATS
 * server with JetStream, and a store every node shares (`postgresStore()`). Throws
 * `INVALID_ARGUMENT` for bad options.
 *
 * @example
 * ```ts
 * const cluster = natsCluster({ servers: ['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222'], node: 'node-a' });
 * const system = createSystem({ store, cluster, durable: { types: [Account, Transfer] } });
 * await system.openStore(); // connected, joined, serving its share of the shards
 * ```
 */
export function natsCluster(options: NatsClusterOptions): Cluster {
  checkKeys('natsCluster', options, KEYS);
  const servers = typeof options.servers === 'string' ? [options.servers] : options.servers;
  if (!Array.isArray(servers) || servers.length === 0 || servers.some((s) => typeof s !== 'string' || s.length === 0))
    throw new InvalidArgument('natsCluster: servers must be a URL (nats://host:4222) or a non-empty list of them');
  if (typeof options.node !== 'string' || !TOKEN.test(options.node))
    throw new InvalidArgument(`natsCluster: node must be 1–64 letters, digits, '-' or '_', got ${JSON.stringify(options.node)}`);
  const name = options.name ?? 'holdfast';
  if (typeof name !== 'string' || !TOKEN.test(name))
    throw new InvalidArgument(`natsCluster: name must be 1–64 letters, digits, '-' or '_', got ${JSON.stringify(name)}`);
  const int = (key: keyof NatsClusterOptions, value: number | undefined, fallback: number, min: number, max: number): number => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || v < min || v > max) throw new InvalidArgument(`natsCluster: ${key} must be an integer in ${min}..${max}, got ${String(v)}`);
    return v;
  };
  const leaseTtlMs = int('leaseTtlMs', options.leaseTtlMs, 3_000, 200, 600_000);
  const pingEveryMs = int('pingEveryMs', options.pingEveryMs, 250, 10, 60_000);
  const pingTimeoutMs = int('pingTimeoutMs', options.pingTimeoutMs, 500, 10, 60_000);
  const suspectAfter = int('suspectAfter', options.suspectAfter, 2, 1, 100);
  if (pingTimeoutMs * suspectAfter >= leaseTtlMs)
    throw new InvalidArgument(
      `natsCluster: pingTimeoutMs × suspectAfter (${pingTimeoutMs * suspectAfter} ms) must be shorter than leaseTtlMs (${leaseTtlMs} ms): a silent node is found by its pings before its lease expires`,
    );
  return new NatsCluster({
    servers,
    node: options.node,
    shards: int('shards', options.shards, 64, 1, 65_536),
    name,
    leaseTtlMs,
    pingEveryMs,
    pingTimeoutMs,
    suspectAfter,
    handOffTimeoutMs: int('handOffTimeoutMs', options.handOffTimeoutMs, 5_000, 1, 600_000),
    replicas: int('replicas', options.replicas, 1, 1, 5),
    connectTimeoutMs: int('connectTimeoutMs', options.connectTimeoutMs, 5_000, 100, 600_000),
    observer: options.observer ?? null,
  });
}
