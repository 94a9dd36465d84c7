// One node of a cluster on NATS. What it does, in the order a node lives it:
//
// - join: connect, open the bucket (leases and node names, with the bucket's TTL as their
//   expiry), answer pings, announce the node name (refused while another live node holds it),
//   watch the bucket, and take a fair share of the free shards;
// - every tick: read again the entries the watcher may have missed expiring, ping every other
//   node (a node that has no subscription any more — it died — is dead at once; one that does
//   not answer `suspectAfter` pings in a row is dead too), delete the dead nodes' leases, take
//   free shards up to a fair share, hand one shard over when this node holds more than its share
//   and another node less;
// - renew its leases well inside their TTL; a lease whose renewal is refused (taken) or that it
//   could not renew for most of the TTL is lost, and its shard stops being served here at once;
// - serve the asks to its shards (one subscription per shard, drained on hand-over so that no
//   message delivered to this node is dropped) and send asks to other shards, finding the owner
//   again (no responders, SHARD_MOVED) until the ask's deadline;
// - leave: hand every shard over (the actors finish, commit, sleep; then the lease goes), then
//   take the node name back.
import { type ActorSummary, AskTimeout, Cancelled, InvalidArgument, NodeLost, ShardMoved, toError } from '@holdfast/core';
import type { Cluster, ClusterInfo, ClusterSeam, ClusterStats, NodeActors, RemoteCall } from '@holdfast/core/cluster';
import { type KV, Kvm } from '@nats-io/kv';
import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { NEVER, pause } from './backoff.js';
import { NodeDied, noResponders, wrongSequence } from './natsErrors.js';
import { Requests, RequestTimedOut } from './Requests.js';
import { rank } from './rank.js';
import type { ClusterSettings } from './settings.js';
import { nodeKey, shardKey, View } from './View.js';
import { decodeCall, decodeReply, encodeCall, encodeReply, type Subjects, subjects, type WireCall } from './wire.js';

interface Owned {
  readonly shard: number;
  readonly epoch: number;
  /** The key's revision now (renewals move it). */
  revision: number;
  renewedAt: number;
  /** Serving: the subscriptions (null while the store claim is in flight). */
  subs: Subscription[] | null;
  releasing: boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class NatsCluster implements Cluster {
  readonly node: string;
  readonly shards: number;
  readonly #s: ClusterSettings;
  readonly #subjects: Subjects;
  readonly #view: View;
  #seam: ClusterSeam | null = null;
  #nc: NatsConnection | null = null;
  #kv: KV | null = null;
  #state: 'new' | 'joining' | 'joined' | 'leaving' | 'left' | 'closed' = 'new';
  #joined: Promise<void> | null = null;
  readonly #owned = new Map<number, Owned>();
  readonly #taking = new Set<number>();
  readonly #failures = new Map<string, number>();
  readonly #dead = new Set<string>();
  readonly #inbound = new Map<string, AbortController>();
  /** Asks in flight, by the node that owned their shard when they were sent: failed with NODE_LOST if it dies. */
  /** Requests to other nodes waiting for their replies (made once connected). */
  #requests: Requests | null = null;
  #tick: ReturnType<typeof setTimeout> | null = null;
  #renewTimer: ReturnType<typeof setTimeout> | null = null;
  #nodeRevision = 0;
  #stopWatch: (() => void) | null = null;
  #rid = 0;
  readonly #ridPrefix = Math.random().toString(36).slice(2, 10);
  #stats = {
    handOffs: 0,
    taken: 0,
    lost: 0,
    renewals: 0,
    renewFailures: 0,
    lastRenewMs: 0,
    remoteAsks: 0,
    remoteAskErrors: 0,
    retries: 0,
    nodesDeclaredDead: 0,
  };

  constructor(settings: ClusterSettings) {
    this.#s = settings;
    this.node = settings.node;
    this.shards = settings.shards;
    this.#subjects = subjects(settings.name);
    this.#view = new View(settings.shards);
    // A node's name left the bucket: it left (and still answers what it took, until it closes), or
    // another node found it dead. Asks in flight to it fail only if it does not answer a ping.
    this.#view.onNodeGone = (node) => {
      if (this.#requests?.waitsOn(node) !== true) return;
      void this.#ping(node).then((verdict) => {
        if (verdict !== 'ok') this.#failInflight(node);
      });
    };
  }

  attach(seam: ClusterSeam): void {
    if (this.#seam !== null) throw new InvalidArgument(`natsCluster '${this.node}': already attached to a system (one cluster object per system)`);
    this.#seam = seam;
  }

  get #sys(): ClusterSeam {
    if (this.#seam === null) throw new InvalidArgument(`natsCluster '${this.node}': not attached: pass it to createSystem({ cluster })`);
    return this.#seam;
  }

  get #log() {
    return this.#sys.logger;
  }

  // ---------------------------------------------------------------- joining

  start(): Promise<void> {
    this.#joined ??= this.#join();
    return this.#joined;
  }

  async #join(): Promise<void> {
    const s = this.#s;
    this.#state = 'joining';
    const nc = await connect({
      servers: [...s.servers],
      name: `holdfast ${s.name}/${s.node}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: s.connectTimeoutMs,
      // A request would otherwise make two errors up front (for their stack traces): measured,
      // that was a sixth of a remote ask's CPU. Our errors name the actor and the message instead.
      noAsyncTraces: true,
    });
    this.#nc = nc;
    this.#requests = new Requests(nc);
    void this.#watchStatus(nc);
    const kvm = new Kvm(nc);
    const bucket = `holdfast_${s.name}`;
    let kv: KV;
    try {
      kv = await kvm.create(bucket, {
        ttl: s.leaseTtlMs,
        history: 1,
        replicas: s.replicas,
        description: `Holdfast cluster '${s.name}': shard leases and node names`,
      });
    } catch (e) {
      throw new InvalidArgument(
        `natsCluster '${s.node}': the bucket '${bucket}' exists with other settings (its TTL is every node's lease TTL: give every node the same leaseTtlMs): ${toError(e).message}`,
      );
    }
    this.#kv = kv;
    nc.subscribe(this.#subjects.ping(s.node), {
      callback: (err, m) => {
        if (err === null) m.respond(enc.encode(s.node));
      },
    });
    nc.subscribe(this.#subjects.admin(s.node), {
      callback: (err, m) => {
        if (err !== null) return;
        let filter = '';
        try {
          const q = JSON.parse(dec.decode(m.data)) as { filter?: unknown };
          if (typeof q.filter === 'string') filter = q.filter.slice(0, 256);
        } catch {
          // An unreadable question gets every actor.
        }
        m.respond(enc.encode(JSON.stringify({ actors: this.#sys.actors(filter) })));
      },
    });
    await nc.flush();
    await this.#announce(kv);
    const watcher = await kv.watch({ key: '>' });
    this.#stopWatch = () => watcher.stop();
    void (async () => {
      for await (const e of watcher) this.#view.apply(e);
    })().catch((e: unknown) => this.#log.error({ err: toError(e) }, 'cluster: the bucket watcher failed'));
    // The watcher's first entries are the bucket as it is: read it once before taking shards, so
    // that the first reconcile sees every lease. Bounded: the client's key listing can wait for an
    // end it never sees while other nodes write and leases expire under it. Nothing depends on it
    // being complete: taking a shard is a create that fails while its lease exists, and the
    // watcher brings the rest.
    const keys = await kv.keys();
    const stop = setTimeout(() => keys.stop(), Math.min(2_000, s.leaseTtlMs));
    try {
      for await (const key of keys) {
        const e = await kv.get(key);
        if (e !== null) this.#view.apply(e);
      }
    } finally {
      clearTimeout(stop);
    }
    this.#state = 'joined';
    await this.#reconcile();
    this.#scheduleTick();
    this.#scheduleRenew();
    this.#log.info({ node: s.node, cluster: s.name, shards: s.shards, owned: this.#owned.size, nodes: this.#view.nodes.size }, 'cluster: joined');
  }

  /** Take the node name; a stale entry of this name (a previous run that died) is taken over once it does not answer. */
  async #announce(kv: KV): Promise<void> {
    const key = nodeKey(this.node);
    const value = enc.encode(JSON.stringify({ node: this.node, since: Date.now() }));
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        this.#nodeRevision = await kv.create(key, value);
        return;
      } catch (e) {
        if (!wrongSequence(e)) throw e;
      }
      const existing = await kv.get(key);
      if (existing === null || existing.operation !== 'PUT') continue;
      if (await this.#answers(this.node))
        throw new InvalidArgument(`natsCluster: node name '${this.node}' is taken by a live node of cluster '${this.#s.name}'`);
      // A previous run of this node, dead: its name and leases are free.
      await this.#bury(this.node, existing.revision).catch(() => {});
    }
    throw new InvalidArgument(`natsCluster: could not take node name '${this.node}' (it keeps changing hands)`);
  }

  async #watchStatus(nc: NatsConnection): Promise<void> {
    for await (const st of nc.status()) {
      if (st.type === 'disconnect' || st.type === 'reconnect')
        this.#log.warn({ event: st.type, server: (st as { server?: string }).server }, `cluster: NATS ${st.type}`);
    }
  }

  // ---------------------------------------------------------------- the tick: liveness and balance

  #scheduleTick(): void {
    if (this.#state !== 'joined' && this.#state !== 'leaving') return;
    this.#tick = setTimeout(() => {
      this.#tick = null;
      this.#reconcile()
        .catch((e: unknown) => this.#log.warn({ err: toError(e) }, 'cluster: reconcile failed'))
        .finally(() => this.#scheduleTick());
    }, this.#s.pingEveryMs);
  }

  async #reconcile(): Promise<void> {
    const kv = this.#kv as KV;
    this.#dropStale();
    await this.#view.expire(kv, this.#s.leaseTtlMs + this.#s.pingEveryMs);
    // Liveness: ping every other node the bucket names.
    const others = new Set<string>();
    for (const n of this.#view.nodes.keys()) if (n !== this.node) others.add(n);
    for (const l of this.#view.leases.values()) if (l.node !== this.node) others.add(l.node);
    // And nodes that still owe this one replies (a node that left the bucket but had not answered yet).
    for (const n of this.#requests?.owners() ?? []) if (n !== this.node) others.add(n);
    await Promise.all(
      [...others].map(async (n) => {
        const verdict = await this.#ping(n);
        if (verdict === 'ok') {
          this.#failures.delete(n);
          this.#dead.delete(n);
          return;
        }
        const failures = (this.#failures.get(n) ?? 0) + 1;
        this.#failures.set(n, failures);
        if (verdict === 'gone' || failures >= this.#s.suspectAfter) await this.#declareDead(n);
      }),
    );
    if (this.#state !== 'joined') return;
    // Balance: a fair share each.
    const live = new Set<string>([this.node]);
    for (const n of this.#view.nodes.keys()) if (!this.#dead.has(n)) live.add(n);
    const target = Math.ceil(this.shards / live.size);
    const floor = Math.floor(this.shards / live.size);
    const mine = this.#owned.size + this.#taking.size;
    if (mine < target) {
      const free: number[] = [];
      for (let s = 0; s < this.shards; s++) if (!this.#view.leases.has(s) && !this.#owned.has(s) && !this.#taking.has(s)) free.push(s);
      free.sort((a, b) => rank(this.node, b) - rank(this.node, a));
      await Promise.all(free.slice(0, target - mine).map((s) => this.#take(s)));
    } else if (this.#owned.size > floor) {
      // More than the least fair share, while another node has less: hand one over (the one this
      // node ranks lowest), one per tick, so that the cluster settles without a storm.
      const counts = this.#view.counts();
      const starving = [...live].some((n) => n !== this.node && (counts.get(n) ?? 0) < floor);
      if (starving) {
        const serving = [...this.#owned.values()].filter((o) => o.subs !== null && !o.releasing).map((o) => o.shard);
        serving.sort((a, b) => rank(this.node, a) - rank(this.node, b));
        const give = serving[0];
        if (give !== undefined) await this.#release(give);
      }
    }
  }

  /** 'ok', 'gone' (no subscription: the node's connection is gone) or 'silent' (no answer in time). */
  async #ping(node: string): Promise<'ok' | 'gone' | 'silent'> {
    try {
      await (this.#nc as NatsConnection).request(this.#subjects.ping(node), undefined, { timeout: this.#s.pingTimeoutMs });
      return 'ok';
    } catch (e) {
      if (noResponders(e)) return 'gone';
      return 'silent';
    }
  }

  async #answers(node: string): Promise<boolean> {
    for (let i = 0; i < this.#s.suspectAfter; i++) {
      const v = await this.#ping(node);
      if (v === 'ok') return true;
      if (v === 'gone') return false;
    }
    return false;
  }

  async #declareDead(node: string): Promise<void> {
    if (node === this.node) return;
    if (!this.#dead.has(node)) {
      this.#dead.add(node);
      this.#stats.nodesDeclaredDead++;
      this.#log.warn({ peer: node }, 'cluster: a node does not answer; taking its shards over');
    }
    this.#failInflight(node);
    await this.#bury(node, this.#view.nodes.get(node)?.revision ?? null);
  }

  /** `node` is dead or gone (declared dead here, or its name left the bucket): its asks in flight will never be answered. */
  #failInflight(node: string): void {
    this.#requests?.failOwner(node, () => new NodeDied(node, new Error(`node '${node}' is gone`)));
  }

  /** Delete a dead node's leases and name (each only at the revision seen: a renewal in between means it lives). */
  async #bury(node: string, nodeRevision: number | null): Promise<void> {
    const kv = this.#kv as KV;
    const leases = [...this.#view.leases.values()].filter((l) => l.node === node);
    await Promise.all(
      leases.map(async (l) => {
        try {
          await kv.delete(shardKey(l.shard), { previousSeq: l.revision });
          this.#view.forget(shardKey(l.shard));
        } catch (e) {
          if (!wrongSequence(e)) throw e;
        }
      }),
    );
    if (nodeRevision !== null) {
      try {
        await kv.delete(nodeKey(node), { previousSeq: nodeRevision });
        this.#view.forget(nodeKey(node));
        this.#failures.delete(node);
        this.#dead.delete(node);
      } catch (e) {
        if (!wrongSequence(e)) throw e;
      }
    }
  }

  // ---------------------------------------------------------------- leases: take, renew, lose, release

  async #take(shard: number): Promise<void> {
    const kv = this.#kv as KV;
    this.#taking.add(shard);
    let owned: Owned | null = null;
    try {
      let revision: number;
      try {
        revision = await kv.create(shardKey(shard), enc.encode(JSON.stringify({ node: this.node })));
      } catch (e) {
        if (wrongSequence(e)) return; // someone else took it first
        throw e;
      }
      // The lease's number is the revision it was created at: higher than any earlier lease of the shard.
      const epoch = revision;
      revision = await kv.update(shardKey(shard), enc.encode(JSON.stringify({ node: this.node, epoch })), revision);
      owned = { shard, epoch, revision, renewedAt: Date.now(), subs: null, releasing: false };
      this.#owned.set(shard, owned);
      await this.#sys.acquire(shard, epoch);
      if (this.#owned.get(shard) !== owned) return; // lost meanwhile
      owned.subs = this.#serve(shard);
      this.#stats.taken++;
    } catch (e) {
      this.#log.error({ err: toError(e), shard }, 'cluster: taking a shard failed; giving its lease back');
      if (owned !== null && this.#owned.get(shard) === owned) {
        this.#owned.delete(shard);
        this.#sys.lose(shard, toError(e));
        await kv.delete(shardKey(shard), { previousSeq: owned.revision }).catch(() => {});
      }
    } finally {
      this.#taking.delete(shard);
    }
  }

  #scheduleRenew(): void {
    if (this.#state !== 'joined' && this.#state !== 'leaving') return;
    this.#renewTimer = setTimeout(
      () => {
        this.#renewTimer = null;
        this.#renew()
          .catch((e: unknown) => this.#log.warn({ err: toError(e) }, 'cluster: renewing leases failed'))
          .finally(() => this.#scheduleRenew());
      },
      Math.max(50, Math.floor(this.#s.leaseTtlMs / 4)),
    );
  }

  async #renew(): Promise<void> {
    const kv = this.#kv as KV;
    const observer = this.#s.observer;
    await Promise.all(
      [...this.#owned.values()].map(async (o) => {
        if (o.releasing) return;
        try {
          const t0 = performance.now();
          const revision = await kv.update(shardKey(o.shard), enc.encode(JSON.stringify({ node: this.node, epoch: o.epoch })), o.revision);
          observer?.renewal?.(performance.now() - t0);
          if (this.#owned.get(o.shard) !== o) return;
          o.revision = revision;
          o.renewedAt = Date.now();
          this.#stats.renewals++;
        } catch (e) {
          this.#stats.renewFailures++;
          if (wrongSequence(e)) this.#lose(o.shard, new Error(`the lease of shard ${o.shard} was taken by another node`));
          else this.#log.warn({ err: toError(e), shard: o.shard }, 'cluster: could not renew a lease');
        }
      }),
    );
    try {
      this.#nodeRevision = await kv.update(nodeKey(this.node), enc.encode(JSON.stringify({ node: this.node, at: Date.now() })), this.#nodeRevision);
    } catch (e) {
      if (wrongSequence(e) || (e as { code?: unknown }).code === 10037) {
        // Our name expired or was deleted (we were declared dead): take it again.
        this.#nodeRevision = await kv.put(nodeKey(this.node), enc.encode(JSON.stringify({ node: this.node, at: Date.now() })));
      } else throw e;
    }
    this.#dropStale();
  }

  /** A lease not renewed for most of its TTL may already be someone else's: stop serving it. */
  #dropStale(): void {
    const limit = Date.now() - this.#s.leaseTtlMs * 0.8;
    for (const o of this.#owned.values()) {
      if (o.renewedAt < limit && !o.releasing) this.#lose(o.shard, new Error(`the lease of shard ${o.shard} could not be renewed in time`));
    }
  }

  #lose(shard: number, reason: Error): void {
    const o = this.#owned.get(shard);
    if (o === undefined) return;
    this.#owned.delete(shard);
    this.#stats.lost++;
    for (const sub of o.subs ?? []) sub.unsubscribe();
    this.#log.warn({ shard, err: reason }, 'cluster: lost a shard');
    this.#sys.lose(shard, reason);
  }

  fenced(shard: number): void {
    this.#lose(shard, new Error(`the store has a newer owner of shard ${shard}`));
  }

  /** Hand `shard` over: deliver what was sent to this node already, let its actors finish and commit, then let the lease go. */
  async #release(shard: number): Promise<void> {
    const o = this.#owned.get(shard);
    if (o === undefined || o.releasing || o.subs === null) return;
    o.releasing = true;
    // Draining delivers the messages already sent here (they are served), then unsubscribes:
    // from then on senders find no responder and try again until the new owner serves them.
    await Promise.all(o.subs.map((sub) => sub.drain().catch(() => {})));
    await this.#sys.release(shard, this.#s.handOffTimeoutMs);
    if (this.#owned.get(shard) === o) {
      this.#owned.delete(shard);
      await (this.#kv as KV).delete(shardKey(shard), { previousSeq: o.revision }).catch((e: unknown) => {
        this.#log.warn({ err: toError(e), shard }, 'cluster: could not delete a handed-over lease; it expires by its TTL');
      });
      this.#view.forget(shardKey(shard));
    }
    this.#stats.handOffs++;
  }

  // ---------------------------------------------------------------- serving asks to our shards

  #serve(shard: number): Subscription[] {
    const nc = this.#nc as NatsConnection;
    const calls = nc.subscribe(this.#subjects.shard(shard), { callback: (err, m) => (err === null ? this.#onCall(shard, m) : undefined) });
    const cancels = nc.subscribe(this.#subjects.cancel(shard), {
      callback: (err, m) => {
        if (err === null) this.#inbound.get(dec.decode(m.data))?.abort(new Error('cancelled by the caller'));
      },
    });
    return [calls, cancels];
  }

  #onCall(shard: number, m: Msg): void {
    if (m.reply === undefined || m.reply === '') return;
    const call = decodeCall(m.data);
    if (call instanceof Error) {
      m.respond(encodeReply({ ok: false, error: call }));
      return;
    }
    const o = this.#owned.get(shard);
    // A lease this node could not renew lately may be another node's already: do not answer from it.
    if (o === undefined || o.subs === null || o.renewedAt < Date.now() - this.#s.leaseTtlMs * 0.8 || this.#sys.shardOf(call.id) !== shard) {
      m.respond(encodeReply({ ok: false, error: new ShardMoved(call.id, shard, this.node) }));
      return;
    }
    if (call.tell === true) {
      this.#sys.tell(call);
      m.respond(encodeReply({ ok: true, value: null }));
      return;
    }
    // Only an ask its caller can cancel gets a signal here (the deadline is the caller's own).
    const ctl = call.cancellable === true ? new AbortController() : null;
    if (ctl !== null) this.#inbound.set(call.rid, ctl);
    const done = (outcome: { ok: true; value: unknown } | { ok: false; error: unknown }) => {
      if (ctl !== null) this.#inbound.delete(call.rid);
      m.respond(encodeReply(outcome));
    };
    this.#sys.ask(
      call,
      call.timeoutMs,
      ctl?.signal ?? null,
      (value) => done({ ok: true, value }),
      (error) => done({ ok: false, error }),
    );
  }

  // ---------------------------------------------------------------- asking other nodes

  request(shard: number, call: RemoteCall, timeoutMs: number, signal: AbortSignal | null): Promise<unknown> {
    const observe = this.#s.observer?.remoteAsk;
    if (observe === undefined) return this.#request(shard, call, false, timeoutMs, signal ?? NEVER);
    const t0 = performance.now();
    return this.#request(shard, call, false, timeoutMs, signal ?? NEVER).then(
      (v) => {
        observe(performance.now() - t0, true);
        return v;
      },
      (e: unknown) => {
        observe(performance.now() - t0, false);
        throw e;
      },
    );
  }

  tell(shard: number, call: RemoteCall, timeoutMs: number): void {
    this.#request(shard, call, true, timeoutMs, NEVER).catch((e: unknown) => this.#sys.undeliverable(call, toError(e)));
  }

  async #request(shard: number, call: RemoteCall, tell: boolean, timeoutMs: number, signal: AbortSignal): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    const rid = `${this.#ridPrefix}.${++this.#rid}`;
    this.#stats.remoteAsks++;
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) throw new Cancelled(call.id, call.message, signal.reason);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new AskTimeout(call.id, call.message, timeoutMs);
      // The shard came here meanwhile: serve it here.
      if (this.#seam?.serves(shard) === true) {
        if (tell) {
          this.#sys.tell(call);
          return null;
        }
        return new Promise((resolve, reject) => this.#sys.ask(call, remaining, signal === NEVER ? null : signal, resolve, reject));
      }
      if (this.#state === 'new' || this.#state === 'joining') await this.#waitJoined(remaining);
      if (this.#state === 'closed') throw new ShardMoved(call.id, shard, this.node);
      const owner = this.#view.leases.get(shard)?.node ?? null;
      let data: Uint8Array;
      try {
        const wire: WireCall = { ...call, timeoutMs: remaining, rid, ...(tell && { tell: true }), ...(signal !== NEVER && { cancellable: true }) };
        data = await this.#send(shard, wire, remaining, signal, owner);
      } catch (e) {
        if (noResponders(e)) {
          this.#stats.retries++;
          await pause(attempt, deadline, signal);
          continue;
        }
        // Safe to send again (read-only, or keyed): to the new owner, within the deadline.
        if (e instanceof NodeDied && call.retryable === true) {
          this.#stats.retries++;
          await pause(attempt, deadline, signal);
          continue;
        }
        this.#stats.remoteAskErrors++;
        if (e instanceof RequestTimedOut) throw new AskTimeout(call.id, call.message, timeoutMs);
        if (e instanceof NodeDied) throw new NodeLost(call.id, call.message, e.node, e.cause);
        if (signal.aborted) {
          this.#nc?.publish(this.#subjects.cancel(shard), enc.encode(rid));
          throw new Cancelled(call.id, call.message, signal.reason);
        }
        throw new NodeLost(call.id, call.message, owner ?? '?', e);
      }
      const reply = decodeReply(data);
      if (reply.ok) return reply.value;
      if (reply.error.code === 'SHARD_MOVED') {
        this.#stats.retries++;
        await pause(attempt, deadline, signal);
        continue;
      }
      this.#stats.remoteAskErrors++;
      throw reply.error;
    }
  }

  /** One request: its reply's data; fails early when `owner` is declared dead or `signal` aborts. */
  #send(shard: number, call: WireCall, timeoutMs: number, signal: AbortSignal, owner: string | null): Promise<Uint8Array> {
    const requests = this.#requests as Requests;
    const { token, reply } = requests.request(this.#subjects.shard(shard), encodeCall(call), timeoutMs, owner);
    if (signal === NEVER) return reply;
    const aborted = () => requests.fail(token, new Error('aborted'));
    signal.addEventListener('abort', aborted, { once: true });
    return reply.finally(() => signal.removeEventListener('abort', aborted));
  }

  async #waitJoined(ms: number): Promise<void> {
    const joined = this.#joined;
    if (joined === null) throw new InvalidArgument(`natsCluster '${this.node}': not started`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([joined, new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  async actorsEverywhere(filter: string, timeoutMs: number): Promise<NodeActors[]> {
    const names = new Set<string>([this.node, ...this.#view.nodes.keys()]);
    const nc = this.#nc;
    return Promise.all(
      [...names].sort().map(async (node): Promise<NodeActors> => {
        if (node === this.node) return { node, actors: this.#sys.actors(filter) };
        if (nc === null) return { node, error: 'not connected' };
        try {
          const m = await nc.request(this.#subjects.admin(node), enc.encode(JSON.stringify({ filter })), { timeout: timeoutMs });
          const body = JSON.parse(dec.decode(m.data)) as { actors?: unknown };
          return Array.isArray(body.actors) ? { node, actors: body.actors as ActorSummary[] } : { node, error: 'a malformed answer' };
        } catch (e) {
          return { node, error: noResponders(e) ? 'gone' : toError(e).message };
        }
      }),
    );
  }

  // ---------------------------------------------------------------- leaving

  async leave(): Promise<void> {
    if (this.#state !== 'joined') return;
    this.#state = 'leaving';
    const shards = [...this.#owned.keys()];
    this.#log.info({ shards: shards.length }, 'cluster: leaving; handing shards over');
    // A few at a time: each hand-over waits for its actors, and the others keep serving meanwhile.
    for (let i = 0; i < shards.length; i += 8) await Promise.all(shards.slice(i, i + 8).map((s) => this.#release(s)));
    await (this.#kv as KV).delete(nodeKey(this.node), { previousSeq: this.#nodeRevision }).catch(() => {});
    this.#state = 'left';
    this.#log.info({}, 'cluster: left');
  }

  async close(): Promise<void> {
    if (this.#state === 'joined') await this.leave();
    this.#state = 'closed';
    if (this.#tick !== null) clearTimeout(this.#tick);
    if (this.#renewTimer !== null) clearTimeout(this.#renewTimer);
    this.#stopWatch?.();
    const nc = this.#nc;
    this.#nc = null;
    this.#requests?.close(new Error('the cluster connection is closed'));
    if (nc !== null) await nc.close().catch(() => {});
  }

  // ---------------------------------------------------------------- what it says of itself

  info(): ClusterInfo {
    const byNode = new Map<string, number[]>();
    for (const n of this.#view.nodes.keys()) byNode.set(n, []);
    byNode.set(this.node, []);
    const unowned: number[] = [];
    for (let s = 0; s < this.shards; s++) {
      const own = this.#owned.get(s);
      const node = own !== undefined && own.subs !== null ? this.node : this.#view.leases.get(s)?.node;
      if (node === undefined || (node === this.node && own === undefined)) unowned.push(s);
      else {
        let list = byNode.get(node);
        if (list === undefined) byNode.set(node, (list = []));
        list.push(s);
      }
    }
    const st = this.#state;
    return {
      status: st === 'new' || st === 'joining' ? 'joining' : st === 'joined' ? 'joined' : st === 'leaving' ? 'leaving' : 'left',
      node: this.node,
      shards: this.shards,
      nodes: [...byNode].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([node, shards]) => ({ node, shards, self: node === this.node })),
      unowned,
    };
  }

  stats(): ClusterStats {
    return { ...this.#stats, owned: [...this.#owned.values()].filter((o) => o.subs !== null).length };
  }
}
