import type { ClusterObserver } from '../natsCluster.js';

/** Everything a node needs, checked (see `natsCluster` for what each means). */
export interface ClusterSettings {
  readonly servers: readonly string[];
  readonly node: string;
  readonly shards: number;
  readonly name: string;
  readonly leaseTtlMs: number;
  readonly pingEveryMs: number;
  readonly pingTimeoutMs: number;
  readonly suspectAfter: number;
  readonly handOffTimeoutMs: number;
  readonly replicas: number;
  readonly connectTimeoutMs: number;
  readonly observer: ClusterObserver | null;
}
