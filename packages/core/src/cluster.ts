/**
 * `@holdfast/core/cluster`: the seam between a system and a cluster (`@holdfast/nats`), which
 * spreads one system's durable actors over many processes. Applications do not need it: they
 * pass a cluster to `createSystem({ store, cluster })` and use refs as always.
 *
 * The split of work:
 * - **Core** places actors. Durable actor ids are hashed to shards ({@link shardOf}); an actor
 *   whose shard this node serves wakes here as always, and one whose shard it does not serve
 *   gets a **stand-in**: its ref forwards every message to the cluster ({@link Cluster.request}).
 *   Core claims a shard in the store before serving it ({@link ClusterSeam.acquire}), so that a
 *   stale owner's writes are fenced by the database itself; it hands a shard over by letting
 *   its actors finish, committing them and putting them to sleep ({@link ClusterSeam.release}).
 * - **The cluster** decides ownership (leases), carries messages between nodes, finds the owner
 *   of a shard again when it moves, and tells core what it owns.
 *
 * @example
 * ```ts
 * import { shardOf } from '@holdfast/core/cluster';
 * shardOf('acct-42', 64); // the same shard on every node
 * ```
 * @module @holdfast/core/cluster
 */
import type { ActorSystem } from './createSystem.js';
import type { ActorSummary } from './inspection.js';
import type { Logger } from './Logger.js';

/** A message for an actor on another node: what crosses the wire. */
export interface RemoteCall {
  /** The actor type's name (its definition must be known on the receiving node). */
  readonly type: string;
  readonly id: string;
  readonly message: string;
  /** The input, already checked by the sender's protocol (the receiver checks it again). */
  readonly input: unknown;
  /** A `send`: the owner answers (with nothing) once the message is queued, instead of with the handler's reply. */
  readonly send?: boolean;
  /** The ask's idempotency key (`AskOptions.idempotencyKey`): the owner keeps its reply with the actor's state. */
  readonly idempotencyKey?: string;
  /**
   * Sending it again cannot apply it twice (a read-only message, or a keyed ask): when its node
   * dies with it in flight, the cluster sends it to the new owner instead of failing with NODE_LOST.
   */
  readonly retryable?: boolean;
}

/** A cluster node's counters and gauges, for metrics. */
export interface ClusterStats {
  /** Shards served here now. */
  readonly owned: number;
  /** Shards handed over to another node (on leave, or to rebalance). */
  readonly handOffs: number;
  /** Shards taken (free, or from a dead node). */
  readonly taken: number;
  /** Shards lost (a lease taken or not renewed in time, or fenced by the store). */
  readonly lost: number;
  readonly renewals: number;
  readonly renewFailures: number;
  /** Asks and tells sent to other nodes, and those that failed. */
  readonly remoteAsks: number;
  readonly remoteAskErrors: number;
  /** Sends tried again because the shard was moving (no responder, SHARD_MOVED). */
  readonly retries: number;
  /** Other nodes this node found dead (and took shards from). */
  readonly nodesDeclaredDead: number;
}

/** What a cluster says about itself, for the REPL and metrics. */
export interface ClusterInfo {
  /** `joining`, `joined` (serving), `leaving` (handing its shards over), `left`. */
  readonly status: 'joining' | 'joined' | 'leaving' | 'left';
  readonly node: string;
  readonly shards: number;
  /** The nodes seen alive, with the shards each owns (this node's view). */
  readonly nodes: ReadonlyArray<{ readonly node: string; readonly shards: readonly number[]; readonly self: boolean }>;
  /** Shards nobody owns at the moment. */
  readonly unowned: readonly number[];
}

/**
 * A cluster a system runs in (made by `natsCluster()` of `@holdfast/nats`). Core calls these;
 * the cluster calls back through the {@link ClusterSeam} given to {@link Cluster.attach}.
 */
export interface Cluster {
  /** This node's name, unique in the cluster. */
  readonly node: string;
  /** How many shards the ids are spread over: the same on every node. */
  readonly shards: number;
  /** Called once, by `createSystem`, before {@link Cluster.start}. */
  attach(seam: ClusterSeam): void;
  /** Join: connect, and start taking a fair share of the shards. Resolves once joined. */
  start(): Promise<void>;
  /**
   * Send an ask to whoever owns `shard` (not this node, as far as core knows), and settle with
   * its reply (unchecked: core checks it) or a coded error. Finds the owner again when the shard
   * moves, within `timeoutMs`; stops trying, and tells the owner, when `signal` aborts (null:
   * the caller cannot cancel; the owner gives up at the same deadline). Never settles twice.
   */
  request(shard: number, call: RemoteCall, timeoutMs: number, signal: AbortSignal | null): Promise<unknown>;
  /** Send a tell to whoever owns `shard`; what cannot be delivered goes to {@link ClusterSeam.undeliverable}. */
  tell(shard: number, call: RemoteCall, timeoutMs: number): void;
  /** The store says a newer owner holds `shard`: stop serving it (the cluster then calls {@link ClusterSeam.lose}). */
  fenced(shard: number): void;
  /** Hand every shard over (through {@link ClusterSeam.release}) and leave the cluster; messages to other nodes still go out. */
  leave(): Promise<void>;
  /** Disconnect (after `leave`, once the system stopped). */
  close(): Promise<void>;
  /** This node's view of the cluster. */
  info(): ClusterInfo;
  /** This node's counters. */
  stats(): ClusterStats;
  /**
   * The live actors of every node (each node answers with {@link ClusterSeam.actors}), within
   * `timeoutMs`: a node that does not answer in time is listed with its error.
   */
  actorsEverywhere(filter: string, timeoutMs: number): Promise<NodeActors[]>;
}

/** One node's answer to {@link Cluster.actorsEverywhere}. */
export type NodeActors = { readonly node: string; readonly actors: readonly ActorSummary[] } | { readonly node: string; readonly error: string };

/** What core offers a cluster, for one system. */
export interface ClusterSeam {
  readonly system: ActorSystem;
  /** The system's logger, for the cluster's own lines. */
  readonly logger: Logger;
  /** The shard of actor `id` ({@link shardOf} with the cluster's shard count). */
  shardOf(id: string): number;
  /**
   * This node now holds `shard` at `epoch` (its lease's number, higher than any earlier owner's):
   * claim it in the store, after which messages to its actors are served here. Rejects (and
   * serves nothing) when the store refuses the claim: a newer owner exists.
   */
  acquire(shard: number, epoch: number): Promise<void>;
  /**
   * Hand `shard` over: messages sent here from now on are forwarded through the cluster, the
   * shard's actors finish what they have, their state is committed and they are put to sleep.
   * Resolves when nothing of the shard is left here (or `timeoutMs` passed: the rest is stopped).
   */
  release(shard: number, timeoutMs: number): Promise<void>;
  /** `shard` is gone (its lease expired or was taken): its actors stop now; nothing more of theirs is committed. */
  lose(shard: number, reason: Error): void;
  /** True while `shard` is served here. */
  serves(shard: number): boolean;
  /**
   * Serve a call from another node. The outcome goes to `resolve` or `reject` (a coded error),
   * exactly once. A shard not served here is refused with `SHARD_MOVED`.
   */
  ask(call: RemoteCall, timeoutMs: number, signal: AbortSignal | null, resolve: (value: unknown) => void, reject: (error: unknown) => void): void;
  /** Serve a tell from another node (what cannot be delivered becomes a dead letter here). */
  tell(call: RemoteCall): void;
  /** A tell the cluster could not deliver to any owner: a dead letter. */
  undeliverable(call: RemoteCall, error: Error): void;
  /** This node's live actors whose id or type contains `filter` (for a cluster-wide listing). */
  actors(filter: string): ActorSummary[];
}

/**
 * The shard of actor `id` among `shards`: FNV-1a over the id's UTF-16 code units. The same on
 * every node and every platform.
 *
 * @example
 * ```ts
 * shardOf('acct-42', 64); // a number in 0..63
 * ```
 */
export function shardOf(id: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

export { ShardMoved } from './errors.js';
