import type { ActorSystem, TurnObserver } from '@holdfast/core';
import type { ClusterStats } from '@holdfast/core/cluster';
import { checkKeys } from '@holdfast/core/host';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { CounterMetric, CounterReading, GaugeMetric, GaugeReading, HistogramMetric, MetricOptions, Metrics } from '../Metrics.js';

/**
 * The service's Prometheus metrics, read from the system when scraped (counters move by the
 * difference since the last scrape), plus a turn-duration histogram fed by the system's turn
 * observer.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly turnDuration: Histogram<'type'>;
  readonly commitDuration: Histogram;
  readonly commitBatch: Histogram;
  readonly leaseRenewal: Histogram;
  readonly remoteAsk: Histogram<'outcome'>;
  #system: ActorSystem | null = null;

  #clusterStats(): ClusterStats | null {
    return this.#system?.clusterStats() ?? null;
  }

  /** What a cluster reports remote asks and lease renewals to. */
  readonly clusterObserver = {
    remoteAsk: (ms: number, ok: boolean) => this.remoteAsk.observe({ outcome: ok ? 'reply' : 'error' }, ms / 1000),
    renewal: (ms: number) => this.leaseRenewal.observe(ms / 1000),
  };

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    // The process's own: memory, CPU, file descriptors, handles, event-loop lag, GC.
    collectDefaultMetrics({ register: this.registry });
    this.turnDuration = new Histogram({
      name: 'holdfast_turn_duration_seconds',
      help: 'How long turns take, by actor type (async turns all, synchronous turns sampled)',
      labelNames: ['type'],
      buckets: [0.000_001, 0.000_01, 0.000_1, 0.001, 0.01, 0.1, 1, 10],
      registers: [this.registry],
    });
    const metrics = this;
    const stats = () => metrics.#system?.stats();
    const counter = (name: string, help: string, read: () => number | undefined) => {
      let last = 0;
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          const now = read() ?? last;
          if (now > last) this.inc(now - last);
          last = now;
        },
      });
    };
    counter('holdfast_asks_total', 'Asks made (including refused ones)', () => stats()?.asks);
    counter('holdfast_turns_total', 'Turns run', () => stats()?.turns);
    counter('holdfast_ask_timeouts_total', 'Asks that timed out', () => stats()?.timeouts);
    counter('holdfast_crashes_total', 'Actor crashes (thrown, hung, invalid reply, failed start)', () => stats()?.crashes);
    counter('holdfast_hangs_total', 'Turns declared hung by a steward', () => metrics.#hangs);
    counter('holdfast_restarts_total', 'Restarts of actors and stewards', () => stats()?.restarts);
    counter('holdfast_dead_letters_total', 'Messages that could not be delivered or were dropped', () => stats()?.deadLetters);
    counter('holdfast_late_replies_total', 'Replies that came after their ask had settled (timed out, cancelled), dropped', () => stats()?.lateReplies);
    counter('holdfast_rejected_inputs_total', 'Inputs refused by their zod schema', () => stats()?.rejectedInputs);
    new Gauge({
      name: 'holdfast_mailbox_depth',
      help: 'Messages waiting in mailboxes, by actor type',
      labelNames: ['type'],
      registers: [this.registry],
      collect() {
        this.reset();
        const depth = new Map<string, number>();
        for (const a of metrics.#system?.actors() ?? []) depth.set(a.type, (depth.get(a.type) ?? 0) + a.mailbox);
        for (const [type, n] of depth) this.set({ type }, n);
      },
    });
    new Gauge({
      name: 'holdfast_actors',
      help: 'Live actors, by actor type',
      labelNames: ['type'],
      registers: [this.registry],
      collect() {
        this.reset();
        const count = new Map<string, number>();
        for (const a of metrics.#system?.actors() ?? []) count.set(a.type, (count.get(a.type) ?? 0) + 1);
        for (const [type, n] of count) this.set({ type }, n);
      },
    });
    new Gauge({
      name: 'holdfast_worker_threads',
      help: 'Worker threads up and serving actors, by host',
      labelNames: ['host'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const h of metrics.#system?.hosts() ?? []) {
          const health = h.health?.();
          if (health !== undefined) this.set({ host: h.name }, health.up);
        }
      },
    });
    const replaced = new Map<string, number>();
    new Counter({
      name: 'holdfast_worker_threads_replaced_total',
      help: 'Worker threads lost (stuck, out of memory, exited) and replaced, by host',
      labelNames: ['host'],
      registers: [this.registry],
      collect() {
        for (const h of metrics.#system?.hosts() ?? []) {
          const now = h.health?.().replaced;
          if (now === undefined) continue;
          const last = replaced.get(h.name) ?? 0;
          this.inc({ host: h.name }, now - last);
          replaced.set(h.name, now);
        }
      },
    });
    const durable = () => stats()?.durable ?? undefined;
    counter('holdfast_store_commits_total', 'Durable commits (transactions) made', () => durable()?.commits);
    counter('holdfast_store_writes_total', 'Durable actor states written', () => durable()?.writes);
    counter('holdfast_store_errors_total', 'Store operations that failed (open, load, commit)', () => durable()?.storeErrors);
    counter('holdfast_activations_total', 'Durable actors woken (loaded from the store)', () => durable()?.activations);
    counter('holdfast_passivations_total', 'Durable actors put to sleep (idle, or past maxActive)', () => durable()?.passivations);
    new Gauge({
      name: 'holdfast_durable_actors_active',
      help: 'Durable actors awake (in memory) now',
      registers: [this.registry],
      collect() {
        this.set(durable()?.active ?? 0);
      },
    });
    new Gauge({
      name: 'holdfast_store_available',
      help: '1 while the store can be used (open, answering, not fenced off by a newer owner)',
      registers: [this.registry],
      collect() {
        const d = durable();
        this.set(d === undefined ? 0 : d.available ? 1 : 0);
      },
    });
    this.commitDuration = new Histogram({
      name: 'holdfast_store_commit_duration_seconds',
      help: 'How long durable commits take (one transaction, with its fsync)',
      buckets: [0.000_1, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
      registers: [this.registry],
    });
    this.commitBatch = new Histogram({
      name: 'holdfast_store_commit_batch_size',
      help: 'Actor states written by one commit',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers: [this.registry],
    });
    // In a cluster: this node's shards, hand-overs, leases and asks to other nodes.
    const cluster = () => metrics.#system?.cluster() ?? null;
    const clusterStats = () => metrics.#clusterStats();
    new Gauge({
      name: 'holdfast_cluster_shard_owned',
      help: '1 for each shard this node serves, 0 for the others (in a cluster)',
      labelNames: ['shard'],
      registers: [this.registry],
      collect() {
        this.reset();
        const info = cluster();
        if (info === null) return;
        const mine = new Set(info.nodes.find((n) => n.self)?.shards ?? []);
        for (let s = 0; s < info.shards; s++) this.set({ shard: String(s) }, mine.has(s) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'holdfast_cluster_nodes',
      help: 'Nodes of the cluster this node sees alive (itself included)',
      registers: [this.registry],
      collect() {
        this.set(cluster()?.nodes.length ?? 0);
      },
    });
    counter('holdfast_cluster_handoffs_total', 'Shards this node handed over to another (on leave, or to rebalance)', () => clusterStats()?.handOffs);
    counter('holdfast_cluster_shards_taken_total', 'Shards this node took (free, or from a dead node)', () => clusterStats()?.taken);
    counter(
      'holdfast_cluster_shards_lost_total',
      'Shards this node lost (lease taken or not renewed in time, or fenced by the store)',
      () => clusterStats()?.lost,
    );
    counter('holdfast_cluster_lease_renewal_failures_total', 'Lease renewals that failed', () => clusterStats()?.renewFailures);
    counter('holdfast_cluster_remote_asks_total', 'Asks and tells sent to other nodes', () => clusterStats()?.remoteAsks);
    counter('holdfast_cluster_remote_ask_errors_total', 'Asks and tells to other nodes that failed', () => clusterStats()?.remoteAskErrors);
    counter('holdfast_cluster_retries_total', 'Sends tried again because the shard was moving', () => clusterStats()?.retries);
    counter('holdfast_cluster_nodes_declared_dead_total', 'Other nodes this node found dead', () => clusterStats()?.nodesDeclaredDead);
    this.leaseRenewal = new Histogram({
      name: 'holdfast_cluster_lease_renew_duration_seconds',
      help: 'How long a shard lease renewal takes (a revision-checked update of the bucket)',
      buckets: [0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers: [this.registry],
    });
    this.remoteAsk = new Histogram({
      name: 'holdfast_cluster_remote_ask_duration_seconds',
      help: 'How long asks to actors on other nodes take, by outcome',
      labelNames: ['outcome'],
      buckets: [0.000_1, 0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
      registers: [this.registry],
    });
    new Gauge({
      name: 'holdfast_pending_asks',
      help: 'Asks waiting for their reply',
      registers: [this.registry],
      collect() {
        this.set(stats()?.pendingAsks ?? 0);
      },
    });
  }

  #hangs = 0;

  /** What the system reports turn durations to. */
  readonly observer: TurnObserver = {
    sampleEvery: 16,
    observe: (type, _message, ms) => this.turnDuration.observe({ type }, ms / 1000),
  };

  /** What the system reports commits to (durable actors). */
  readonly onCommit = (durationMs: number, writes: number, _ok: boolean): void => {
    this.commitDuration.observe(durationMs / 1000);
    this.commitBatch.observe(writes);
  };

  /** Read this system from now on. */
  bind(system: ActorSystem): void {
    this.#system = system;
    system.events.subscribe((e) => {
      if (e.type === 'hung') this.#hangs++;
    });
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** What the service's `start` gets to declare metrics of its own in this registry. */
  readonly forService: Metrics = {
    counter: (o: MetricOptions & { readonly collect?: () => CounterReading | Promise<CounterReading> }): CounterMetric => {
      checkKeys('metrics.counter', o, { ...METRIC_KEYS, collect: true });
      const read = o.collect;
      // The totals seen at the last scrape, by labels: the counter moves by the difference.
      const last = new Map<string, number>();
      return new Counter({
        ...labelled(o),
        registers: [this.registry],
        ...(read !== undefined && {
          async collect() {
            const reading = await read();
            const rows: ReadonlyArray<readonly [Record<string, string | number>, number]> = typeof reading === 'number' ? [[{}, reading]] : reading;
            for (const [labels, total] of rows) {
              const key = JSON.stringify(labels);
              const before = last.get(key) ?? 0;
              // A total that went down was reset (its actor restarted): all of it is new.
              const grew = total >= before ? total - before : total;
              if (grew > 0) this.inc(labels, grew);
              last.set(key, total);
            }
          },
        }),
      });
    },
    gauge: (o: MetricOptions & { readonly collect?: () => GaugeReading | Promise<GaugeReading> }): GaugeMetric => {
      checkKeys('metrics.gauge', o, { ...METRIC_KEYS, collect: true });
      const read = o.collect;
      return new Gauge({
        ...labelled(o),
        registers: [this.registry],
        ...(read !== undefined && {
          async collect() {
            const reading = await read();
            if (typeof reading === 'number') {
              this.set(reading);
              return;
            }
            this.reset();
            for (const [labels, value] of reading) this.set(labels, value);
          },
        }),
      });
    },
    histogram: (o: MetricOptions & { readonly buckets?: readonly number[] }): HistogramMetric => {
      checkKeys('metrics.histogram', o, { ...METRIC_KEYS, buckets: true });
      return new Histogram({ ...labelled(o), ...(o.buckets !== undefined && { buckets: [...o.buckets] }), registers: [this.registry] });
    },
  };
}

const METRIC_KEYS = { name: true, help: true, labelNames: true } as const;

function labelled(o: MetricOptions): { name: string; help: string; labelNames: string[] } {
  return { name: o.name, help: o.help, labelNames: [...(o.labelNames ?? [])] };
}
