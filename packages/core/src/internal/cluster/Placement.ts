// A system's side of its cluster: which shards this node serves (and at which epoch), the awake
// actors of each, the stand-ins of actors served elsewhere, and the seam the cluster drives:
// acquire (claim in the store, then serve), release (forward new messages, let the actors finish,
// commit, sleep), lose (stop at once), and the calls that arrive from other nodes.
//
// A shard here is in one of four states:
//   REMOTE     another node serves it (or nobody): its actors here are stand-ins
//   CLAIMING   the lease is ours; the store claim is in flight: messages wait (stand-ins forward)
//   SERVING    its actors wake and run here
//   RELEASING  being handed over: new messages are forwarded, the awake actors finish and sleep
import type { ActorRef } from '../../ActorRef.js';
import { type Cluster, type ClusterSeam, type RemoteCall, shardOf } from '../../cluster.js';
import type { ActorSystem } from '../../createSystem.js';
import type { ActorDefinition, Lease } from '../../defineActor.js';
import { InvalidArgument, ShardMoved, toError } from '../../errors.js';
import type { ActorSummary } from '../../inspection.js';
import type { Logger } from '../../Logger.js';
import type { AskOptions } from '../../options.js';
import type { ShardFence } from '../../store.js';
import type { Cell } from '../cell/Cell.js';
import type { DurableSlot } from '../cell/durableSlot.js';
import { GATE_REMOTE, STOPPED, STOPPING } from '../cell/parts.js';
import type { Durability } from '../durable/Durability.js';
import type { SystemCore } from '../SystemCore.js';

const REMOTE = 0;
const CLAIMING = 1;
const SERVING = 2;
const RELEASING = 3;

/** Stand-ins kept at most, per node: past it the least recently made are dropped (their refs make new ones). */
const MAX_STAND_INS = 100_000;

/** What the placement needs of its system. */
export interface PlacementParts {
  readonly core: SystemCore;
  readonly system: ActorSystem;
  readonly durability: Durability;
  /** The durable types this node knows, by name. */
  typeOf(name: string): ActorDefinition | undefined;
  /** The ref of durable actor `id` of type `def` (woken here when its shard is served here). */
  ref(def: ActorDefinition, id: string): ActorRef;
}

export class Placement implements ClusterSeam {
  readonly cluster: Cluster;
  readonly shards: number;
  readonly system: ActorSystem;
  readonly logger: Logger;
  readonly #parts: PlacementParts;
  readonly #state: Uint8Array;
  readonly #epochs: Float64Array;
  /** Awake actors of each shard served here. */
  readonly #awake = new Map<number, Set<Cell>>();
  /** Stand-ins of actors served elsewhere, by id, least recently made first. */
  readonly #standIns = new Map<string, Cell>();
  /** Shards handed over so far, and stand-ins made (for metrics). */
  handOffs = 0;
  remoteAsks = 0;

  constructor(cluster: Cluster, parts: PlacementParts) {
    this.cluster = cluster;
    this.shards = cluster.shards;
    if (!Number.isInteger(this.shards) || this.shards < 1 || this.shards > 65_536)
      throw new InvalidArgument(`createSystem: cluster.shards must be an integer in 1..65536, got ${String(this.shards)}`);
    this.system = parts.system;
    this.logger = parts.core.logger.child({ node: cluster.node });
    this.#parts = parts;
    this.#state = new Uint8Array(this.shards);
    this.#epochs = new Float64Array(this.shards);
  }

  shardOf(id: string): number {
    return shardOf(id, this.shards);
  }

  serves(shard: number): boolean {
    return this.#state[shard] === SERVING;
  }

  /** The fence an actor woken here now writes under. */
  fenceOf(shard: number): ShardFence {
    return { shard, epoch: this.#epochs[shard] as number };
  }

  /** Shards whose actors may still write here (served, or being handed over). */
  writing(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.shards; s++) if (this.#state[s] === SERVING || this.#state[s] === RELEASING) out.push(s);
    return out;
  }

  /** Shards served here now. */
  served(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.shards; s++) if (this.#state[s] === SERVING) out.push(s);
    return out;
  }

  // ---------------------------------------------------------------- actors here and elsewhere

  /** A durable actor woke here. */
  track(cell: Cell, shard: number): void {
    let set = this.#awake.get(shard);
    if (set === undefined) this.#awake.set(shard, (set = new Set()));
    set.add(cell);
  }

  /** A durable actor stopped (slept, or lost). */
  untrack(cell: Cell): void {
    const slot = cell.durable as DurableSlot | null;
    const shard = slot?.fence?.shard;
    if (shard !== undefined) this.#awake.get(shard)?.delete(cell);
  }

  /** The live stand-in of `id`, or undefined. */
  standIn(id: string): Cell | undefined {
    const cell = this.#standIns.get(id);
    return cell !== undefined && cell.status < STOPPING ? cell : undefined;
  }

  /** Keep a new stand-in (dropping the oldest past the bound: its ref makes a new one when used). */
  addStandIn(cell: Cell): void {
    this.#standIns.delete(cell.id);
    this.#standIns.set(cell.id, cell);
    if (this.#standIns.size > MAX_STAND_INS) {
      const [oldest] = this.#standIns.values() as IterableIterator<Cell>;
      if (oldest !== undefined) this.#retire(oldest);
    }
  }

  #retire(standIn: Cell): void {
    standIn.status = STOPPED;
    this.#standIns.delete(standIn.id);
  }

  // ---------------------------------------------------------------- the seam the cluster drives

  async acquire(shard: number, epoch: number): Promise<void> {
    this.#check(shard);
    const state = this.#state[shard];
    if ((state === SERVING || state === CLAIMING) && this.#epochs[shard] === epoch) return;
    if (state === RELEASING) throw new InvalidArgument(`acquire: shard ${shard} is being handed over`);
    this.#state[shard] = CLAIMING;
    this.#epochs[shard] = epoch;
    try {
      await this.#parts.durability.claim(shard, epoch);
    } catch (e) {
      if (this.#epochs[shard] === epoch && this.#state[shard] === CLAIMING) {
        this.#state[shard] = REMOTE;
        this.#epochs[shard] = 0;
      }
      throw e;
    }
    if (this.#epochs[shard] !== epoch || this.#state[shard] !== CLAIMING) return;
    this.#state[shard] = SERVING;
    // Stand-ins of the shard's actors retire: their refs' next message wakes the actor here.
    for (const cell of this.#standIns.values()) if (this.shardOf(cell.id) === shard) this.#retire(cell);
    this.#parts.core.logger.debug({ shard, epoch }, 'cluster: serving shard');
  }

  async release(shard: number, timeoutMs: number): Promise<void> {
    this.#check(shard);
    if (this.#state[shard] !== SERVING) {
      if (this.#state[shard] === CLAIMING) this.#state[shard] = REMOTE;
      return;
    }
    this.#state[shard] = RELEASING;
    const durability = this.#parts.durability;
    const cells = [...(this.#awake.get(shard) ?? [])];
    // From now on messages to these actors are forwarded (the new owner serves them); what is
    // queued here finishes, is committed, and the actors sleep.
    for (const cell of cells) cell.gate |= GATE_REMOTE;
    const until = Date.now() + timeoutMs;
    let left = cells;
    while (left.length > 0) {
      const next: Cell[] = [];
      for (const cell of left) {
        if (cell.status >= STOPPING) continue;
        if ((cell.durable as DurableSlot).idle(cell)) void durability.passivate(cell);
        else next.push(cell);
      }
      left = next;
      if (left.length === 0) break;
      if (Date.now() >= until) {
        const reason = new ShardMoved('*', shard, this.cluster.node);
        this.#parts.core.logger.warn({ shard, busy: left.map((c) => c.id) }, 'cluster: hand-over deadline passed; stopping the shard’s busy actors');
        for (const cell of left) void cell.stopFor('passivated', reason);
        break;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    // What the shard's actors wrote is committed before the lease goes.
    await durability.settled();
    this.#state[shard] = REMOTE;
    this.#epochs[shard] = 0;
    this.#awake.delete(shard);
    this.handOffs++;
  }

  lose(shard: number, reason: Error): void {
    this.#check(shard);
    if (this.#state[shard] === REMOTE) return;
    this.#state[shard] = REMOTE;
    this.#epochs[shard] = 0;
    const cells = [...(this.#awake.get(shard) ?? [])];
    this.#awake.delete(shard);
    if (cells.length > 0) this.#parts.core.logger.warn({ shard, actors: cells.length, err: reason }, 'cluster: shard lost; its actors here stop');
    for (const cell of cells) {
      cell.gate |= GATE_REMOTE;
      void cell.stopFor('passivated', reason);
    }
  }

  ask(call: RemoteCall, timeoutMs: number, signal: AbortSignal | null, resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
    const def = this.#parts.typeOf(call.type);
    if (def === undefined) {
      reject(new InvalidArgument(`node '${this.cluster.node}' does not know actor type '${call.type}' (list it in durable.types)`));
      return;
    }
    const shard = this.shardOf(call.id);
    if (!this.serves(shard)) {
      reject(new ShardMoved(call.id, shard, this.cluster.node));
      return;
    }
    let ref: ActorRef;
    try {
      ref = this.#parts.ref(def, call.id);
    } catch (e) {
      reject(toError(e));
      return;
    }
    const options: AskOptions = {
      timeoutMs,
      ...(signal !== null && { signal }),
      ...(call.idempotencyKey !== undefined && { idempotencyKey: call.idempotencyKey }),
    };
    if (call.send === true) ref.send(call.message as never, call.input as never, options).then(() => resolve(undefined), reject);
    else ref.ask(call.message as never, call.input as never, options).then(resolve, reject);
  }

  tell(call: RemoteCall): void {
    const def = this.#parts.typeOf(call.type);
    if (def === undefined) {
      this.undeliverable(call, new InvalidArgument(`node '${this.cluster.node}' does not know actor type '${call.type}' (list it in durable.types)`));
      return;
    }
    try {
      // Served here: delivered; moved meanwhile: the ref forwards it to the new owner.
      this.#parts.ref(def, call.id).tell(call.message as never, call.input as never);
    } catch (e) {
      this.undeliverable(call, toError(e));
    }
  }

  undeliverable(call: RemoteCall, error: Error): void {
    const core = this.#parts.core;
    core.deadLetter({ actor: call.id, message: call.message, input: call.input, reason: 'unreachable', wasAsk: false, error, at: core.clock.now() });
  }

  actors(filter: string): ActorSummary[] {
    return this.system.actors().filter((a) => filter === '' || a.id.includes(filter) || a.type.includes(filter));
  }

  /** The store refused a write to `shard`: a newer owner holds it. */
  fenced(shard: number): void {
    if (this.#state[shard] === REMOTE) return;
    this.cluster.fenced(shard);
  }

  #check(shard: number): void {
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.shards) throw new InvalidArgument(`cluster: no shard ${shard} (0..${this.shards - 1})`);
  }
}

/** The lease a durable actor of a cluster runs under (`ctx.lease`), or null. */
export function leaseOf(cell: Cell): Lease | null {
  const fence = cell.durable?.fence;
  const placement = cell.core.placement;
  return fence == null || placement === null ? null : { node: placement.cluster.node, shard: fence.shard, epoch: fence.epoch };
}
