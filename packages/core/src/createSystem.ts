import type { ActorHost } from './ActorHost.js';
import { ActorRef, cellOf, retarget } from './ActorRef.js';
import { systemClock } from './Clock.js';
import { checkKeys, unknownKey } from './checkKeys.js';
import type { ClusterInfo, ClusterStats } from './cluster.js';
import type { ActorDefinition } from './defineActor.js';
import type { AnyProtocol } from './defineProtocol.js';
import { EventStream } from './EventStream.js';
import { ActorExists, ActorNotFound, InvalidArgument, ShuttingDown, toError } from './errors.js';
import type { DeadLetter, LifecycleEvent } from './events.js';
import type { ActorSnapshot, ActorSummary, DurableStats, StewardSnapshot, SystemCounters, TraceEvent } from './inspection.js';
import { Cell } from './internal/cell/Cell.js';
import { CellType } from './internal/cell/CellType.js';
import { DurableSlot } from './internal/cell/durableSlot.js';
import { wakeCell } from './internal/cell/durableWake.js';
import { GATE_REMOTE, GATE_STORE, RUNNING, STOPPING } from './internal/cell/parts.js';
import { Placement } from './internal/cluster/Placement.js';
import { drainAndStop } from './internal/drain.js';
import { Durability } from './internal/durable/Durability.js';
import { IdRegistry } from './internal/IdRegistry.js';
import { SHUTDOWN_KEYS, SPAWN_KEYS, STEWARD_KEYS, SYSTEM_KEYS } from './internal/optionKeys.js';
import { hasNoActorOptions, observerState, resolveActorOptions, resolveStewardOptions } from './internal/resolveOptions.js';
import { StewardNode } from './internal/StewardNode.js';
import { SystemCore } from './internal/SystemCore.js';
import { smallMs } from './internal/smallInt.js';
import { registerInternals } from './internal/systemInternals.js';
import { silentLogger } from './Logger.js';
import { type ActorOptions, DEFAULTS, type SpawnOptions, type StewardOptions, type SystemOptions } from './options.js';
import { Steward, type StewardHost } from './Steward.js';

/** For spawn's option errors (made only when there is one). */
const spawnWhere = (type: string): string => `spawn '${type}'`;

/** @internal A system option of actor hosts: called on every `ctx.heartbeat()` (the host's own progress signal). */
export const PROGRESS_HOOK: unique symbol = Symbol('holdfast.progressHook');

/** @internal A spawn option of actor hosts: the incarnation the actor starts at (its stand-in's). */
export const START_INCARNATION: unique symbol = Symbol('holdfast.startIncarnation');

/** What `system.shutdown()` reports. */
export interface ShutdownReport {
  /** True when all queued and in-flight work finished before the deadline. */
  readonly clean: boolean;
  /** The actors that still had work at the deadline (and were abandoned). */
  readonly unfinished: ReadonlyArray<{
    readonly id: string;
    readonly type: string;
    readonly mailbox: number;
    readonly busy: boolean;
    readonly deferred: number;
  }>;
  /** How long the drain and stop took, in clock milliseconds. */
  readonly durationMs: number;
}

/** What `system.stats()` returns. */
export interface SystemStats extends Readonly<SystemCounters> {
  readonly name: string;
  readonly status: SystemStatus;
  /** Actors alive now. */
  readonly actors: number;
  /** Asks waiting for their reply now. */
  readonly pendingAsks: number;
  /** Durable actors and their store, or null for a system without a store. */
  readonly durable: DurableStats | null;
}

/** The system's lifecycle. */
export type SystemStatus = 'running' | 'draining' | 'stopped';

/**
 * A set of actors with one dispatcher, one clock, one deadline timer and one event stream.
 * Create it with {@link createSystem}.
 */
export class ActorSystem {
  /** The system's name. */
  readonly name: string;
  /** Lifecycle events: spawned, started, crashed, restarted, gave-up, stopped, error, late-reply. */
  readonly events: EventStream<LifecycleEvent>;
  /** Messages that could not be delivered or were dropped. */
  readonly deadLetters: EventStream<DeadLetter>;
  readonly #core: SystemCore;
  readonly #cells = new IdRegistry<Cell>();
  readonly #stewards = new Map<string, StewardNode>();
  readonly #root: StewardNode;
  readonly #host: StewardHost;
  readonly #wallTimer: ReturnType<typeof setInterval>;
  readonly #defaults: SystemOptions;
  /** Per actor type, what its actors spawned without options share. */
  readonly #types = new WeakMap<object, CellType>();
  #status: SystemStatus = 'running';
  #shutdown: Promise<ShutdownReport> | null = null;
  #nextId = 0;
  /** The hosts this system's actors were spawned on: closed at shutdown. */
  readonly #hosts = new Set<ActorHost>();
  /** Joining the cluster (store open, then the cluster started), or null without one. */
  #joining: Promise<void> | null = null;

  /** @internal Use {@link createSystem}. */
  constructor(options: SystemOptions = {}) {
    checkKeys('createSystem', options, SYSTEM_KEYS);
    this.name = options.name ?? 'holdfast';
    this.#defaults = options;
    const clock = options.clock ?? systemClock;
    const logger = (options.logger ?? silentLogger).child({ system: this.name });
    const onListenerError = (err: unknown) => logger.error({ err: toError(err) }, 'event listener threw');
    this.events = new EventStream<LifecycleEvent>(onListenerError);
    this.deadLetters = new EventStream<DeadLetter>(onListenerError);
    // Kept as milliseconds since the system began (from 1): a small integer, which a cell stores
    // without a number box of its own (12 days of uptime; a boxed number after that). A difference
    // of two Date.now() readings is a double even when whole: smallMs makes it a small integer.
    const base = Date.now() - 1;
    const wall = { base, now: 1 };
    this.#wallTimer = setInterval(() => {
      wall.now = smallMs(Date.now() - base);
    }, 250);
    this.#wallTimer.unref();
    this.#core = new SystemCore({
      name: this.name,
      clock,
      logger,
      facade: this,
      events: this.events,
      deadLetters: this.deadLetters,
      cells: this.#cells,
      stewards: this.#stewards,
      random: options.random ?? Math.random,
      wall,
      observer: observerState(options.turnObserver, logger),
      progress: ((options as { [PROGRESS_HOOK]?: () => void })[PROGRESS_HOOK] as (() => void) | undefined) ?? null,
      wake: (stopped) => this.#wakeFor(stopped.def, stopped.id, stopped.ref),
      wakeFor: (def, id) => this.#wakeFor(def, id),
    });
    if (options.store !== undefined) this.#core.durability = openDurability(this.#core, options);
    else if (options.cluster !== undefined)
      throw new InvalidArgument('createSystem: a cluster needs a store every node shares: createSystem({ store: postgresStore(…), cluster })');
    if (options.cluster !== undefined) {
      const cluster = options.cluster;
      const durability = this.#core.durability as Durability;
      const placement = new Placement(cluster, {
        core: this.#core,
        system: this,
        durability,
        typeOf: (name) => durability.reminders.types.get(name),
        ref: (def, id) => this.ref(def as ActorDefinition<AnyProtocol, unknown, unknown>, id),
      });
      this.#core.placement = placement;
      cluster.attach(placement);
      const joining = this.#joinCluster(cluster);
      // Reported here; `openStore()` (which `holdfast run` awaits) rethrows it.
      joining.catch((e: unknown) => this.#core.logger.error({ err: toError(e), node: cluster.node }, 'joining the cluster failed'));
      this.#joining = joining;
    }
    const heartbeat = options.heartbeat ?? {};
    const intensity = options.rootIntensity ?? {};
    this.#root = new StewardNode(
      this.#core,
      'root',
      null,
      resolveStewardOptions(
        { heartbeat, intensity, ...(options.backoff && { backoff: options.backoff }), ...(options.whileDown && { whileDown: options.whileDown }) },
        null,
      ),
    );
    this.#host = {
      spawnUnder: (node, def, o) => this.#spawnUnder(node, def, o),
      stewardUnder: (node, name, o) => this.#stewardUnder(node, name, o),
    };
    registerInternals(this, {
      core: this.#core,
      delegatedSteward: (name, stewardOptions, delegate) => {
        const steward = this.#stewardUnder(this.#root, name, stewardOptions);
        (this.#stewards.get(name) as StewardNode).delegate = delegate;
        return steward;
      },
    });
  }

  /**
   * The error that made the system fatal (the root steward's limit was exceeded), or null. A
   * service should shut down and exit non-zero; `holdfast run` does.
   */
  get fatal(): Error | null {
    return this.#core.fatalError;
  }

  /**
   * Start a steward under the root steward. Its children start in the order they are added and
   * stop in reverse order; see {@link Steward}. Throws `INVALID_ARGUMENT` for a name in use or
   * bad options, and `SHUTTING_DOWN` once shutdown began.
   *
   * @example
   * ```ts
   * const sessions = system.steward('sessions', { strategy: 'one-for-all', intensity: { maxRestarts: 2, withinMs: 1_000 } });
   * const store = sessions.spawn(SessionStore, { id: 'store' });
   * ```
   */
  steward(name: string, options: StewardOptions = {}): Steward {
    return this.#stewardUnder(this.#root, name, options);
  }

  /** The supervision tree: the root steward, its stewards and actors, with restart histories. */
  tree(): StewardSnapshot {
    return this.#root.snapshot();
  }

  /** `running`, `draining` (shutdown began) or `stopped`. */
  get status(): SystemStatus {
    return this.#status;
  }

  /**
   * Start an actor of type `definition` and return its ref. `init(args)` runs now; `onStart`
   * runs before its first message. Throws `ACTOR_EXISTS` when the id is taken, `SHUTTING_DOWN`
   * once shutdown began, and `ACTOR_CRASHED` when `init` throws.
   *
   * @example
   * ```ts
   * const counter = system.spawn(Counter, { id: 'c1', args: { start: 0 }, mailbox: { capacity: 100 } });
   * ```
   */
  spawn<P extends AnyProtocol, S, A>(
    definition: ActorDefinition<P, S, A>,
    ...rest: undefined extends A ? [options?: SpawnOptions<A>] : [options: SpawnOptions<A>]
  ): ActorRef<P> {
    return this.#spawnUnder(this.#root, definition as unknown as ActorDefinition, (rest[0] ?? {}) as SpawnOptions<unknown>) as unknown as ActorRef<P>;
  }

  /**
   * The ref of durable actor `id` of type `definition`, whether it is awake or not: a durable
   * actor always exists. The first message wakes it (its state is loaded from the store, or made
   * by `init` when nothing is stored); after `durable.passivateAfterMs` without a turn it sleeps
   * again, and the same ref wakes it. Throws `INVALID_ARGUMENT` for a type that is not durable,
   * a system without a store, or an id taken by an actor of another type; `SHUTTING_DOWN` once
   * shutdown began.
   *
   * @example
   * ```ts
   * const system = createSystem({ store: sqliteStore({ path: 'data/bank.db' }) });
   * const acct = system.ref(Account, 'acct-42');
   * await acct.ask('deposit', { amount: 5 }); // replied once the new balance is committed
   * ```
   */
  ref<P extends AnyProtocol, S, A>(definition: ActorDefinition<P, S, A>, id: string): ActorRef<P> {
    if (this.#status !== 'running') throw new ShuttingDown(this.name);
    const def = definition as unknown as ActorDefinition;
    if (def?.kind !== 'actor') throw new InvalidArgument('ref: expected an actor definition from defineActor()');
    if (def.behaviour.durable === undefined) throw new InvalidArgument(`ref: actor type '${def.name}' is not durable (give it 'durable'), or spawn it`);
    if (this.#core.durability === null)
      throw new InvalidArgument(`ref: actor type '${def.name}' is durable, but the system has no store: createSystem({ store })`);
    if (typeof id !== 'string' || id.length === 0) throw new InvalidArgument('ref: id must be a non-empty string');
    const cell = this.#wakeFor(def, id);
    if (cell instanceof Error) throw cell;
    return cell.ref as ActorRef<P>;
  }

  /**
   * The cell serving durable actor `id` of type `def`: the awake one, or one woken now. A stale ref
   * (`ref`, pointing at a cell that went to sleep) is pointed at it.
   */
  #wakeFor(def: ActorDefinition, id: string, ref: ActorRef | null = null): Cell | Error {
    if (this.#status !== 'running') return new ShuttingDown(this.name);
    const existing = this.#cells.get(id) ?? this.#core.placement?.standIn(id);
    if (existing !== undefined && existing.status < STOPPING) {
      if (existing.def !== def) return new InvalidArgument(`ref: id '${id}' is taken by an actor of type '${existing.def.name}'`);
      if (ref !== null) retarget(ref, existing);
      return existing;
    }
    return this.#wakeNew(def, id, ref);
  }

  /**
   * The ref of actor `id` — one that is awake, or a durable actor that sleeps: its row is looked
   * up in the store under each durable type this system knows (`durable.types`, and every type
   * `system.ref` was called with), and the first found is woken. Undefined when there is neither.
   * The debug REPL reaches actors through this.
   */
  async find(id: string): Promise<ActorRef | undefined> {
    const awake = this.#cells.get(id);
    if (awake !== undefined && awake.status < STOPPING) return awake.ref;
    const durability = this.#core.durability;
    if (durability === null || typeof id !== 'string' || id.length === 0) return undefined;
    for (const def of durability.reminders.types.values()) {
      if ((await durability.load(def.name, id)) !== null) return this.ref(def as ActorDefinition<AnyProtocol, unknown, unknown>, id);
    }
    return undefined;
  }

  /**
   * Open the system's store now (it opens on its own at once; this waits for it). Rejects with
   * `STORE_UNAVAILABLE` when it cannot be opened, and `INVALID_ARGUMENT` for a system without a
   * store. `holdfast run` waits for this before the service serves.
   */
  async openStore(): Promise<void> {
    const durability = this.#core.durability;
    if (durability === null) throw new InvalidArgument('openStore: the system has no store: createSystem({ store })');
    await durability.open();
    if (this.#joining !== null) await this.#joining;
  }

  /** Open the store, then start the cluster (it joins and takes its share of the shards). */
  async #joinCluster(cluster: NonNullable<SystemOptions['cluster']>): Promise<void> {
    const durability = this.#core.durability as Durability;
    if (typeof durability.store.openShared !== 'function')
      throw new InvalidArgument(
        `createSystem: store '${durability.store.name}' cannot serve a cluster (it is not shared between processes): use postgresStore()`,
      );
    await durability.open();
    await cluster.start();
    this.#core.logger.info({ node: cluster.node, shards: cluster.shards }, 'joined the cluster');
  }

  /** In a cluster: this node's view of it (nodes, the shards each owns), or null without one. */
  cluster(): ClusterInfo | null {
    return this.#core.placement?.cluster.info() ?? null;
  }

  /**
   * In a cluster: the live actors of every node, each with its node's name (a node that does not
   * answer within `timeoutMs` is named in `unreachable`). Without a cluster: this system's actors.
   */
  async actorsEverywhere(
    filter = '',
    timeoutMs = 2_000,
  ): Promise<{ actors: Array<ActorSummary & { node: string }>; unreachable: Array<{ node: string; error: string }> }> {
    const placement = this.#core.placement;
    if (placement === null) {
      const actors = this.actors().filter((a) => filter === '' || a.id.includes(filter) || a.type.includes(filter));
      return { actors: actors.map((a) => ({ ...a, node: this.name })), unreachable: [] };
    }
    const answers = await placement.cluster.actorsEverywhere(filter, timeoutMs);
    const actors: Array<ActorSummary & { node: string }> = [];
    const unreachable: Array<{ node: string; error: string }> = [];
    for (const a of answers) {
      if ('error' in a) unreachable.push({ node: a.node, error: a.error });
      else for (const row of a.actors) actors.push({ ...row, node: a.node });
    }
    return { actors, unreachable };
  }

  /** In a cluster: this node's counters (shards taken, lost, handed over; remote asks), or null without one. */
  clusterStats(): ClusterStats | null {
    return this.#core.placement?.cluster.stats() ?? null;
  }

  /** What the actors of `def` spawned with `options` share: one per type for the usual spawn without options. */
  #typeOf(def: ActorDefinition, options: ActorOptions): CellType {
    const plain = hasNoActorOptions(options);
    if (plain) {
      const known = this.#types.get(def);
      if (known !== undefined) return known;
    }
    const type = new CellType(this.#core, def, resolveActorOptions(def, options, this.#defaults));
    if (plain) this.#types.set(def, type);
    return type;
  }

  #wakeNew(def: ActorDefinition, id: string, ref: ActorRef | null): Cell {
    const cell = new Cell(this.#typeOf(def, {}), id, undefined);
    const durability = this.#core.durability as Durability;
    durability.reminders.register(def);
    const placement = this.#core.placement;
    if (placement !== null) {
      const shard = placement.shardOf(id);
      if (!placement.serves(shard)) {
        // Served by another node (or by nobody yet): a stand-in, whose sends go through the cluster.
        cell.status = RUNNING;
        cell.gate = GATE_REMOTE;
        const r = ref ?? new ActorRef(cell);
        retarget(r, cell);
        cell.ref = r;
        placement.addStandIn(cell);
        return cell;
      }
      cell.durable = new DurableSlot(cell, durability);
      cell.durable.fence = placement.fenceOf(shard);
      placement.track(cell, shard);
    } else cell.durable = new DurableSlot(cell, durability);
    // Awake, a durable actor takes the same send path as any actor; while its store cannot be
    // used, the gate sends it the slow way, which refuses at once.
    if (durability.refusal(id) !== null) cell.gate = GATE_STORE;
    const r = ref ?? new ActorRef(cell);
    retarget(r, cell);
    cell.ref = r;
    cell.parent = this.#root;
    this.#cells.set(cell);
    this.#root.add(cell);
    wakeCell(cell, false);
    return cell;
  }

  #spawnUnder(node: StewardNode, definition: ActorDefinition, options: SpawnOptions<unknown> & { args?: unknown }): ActorRef {
    if (this.#status !== 'running') throw new ShuttingDown(this.name);
    if (!node.running) throw new InvalidArgument(`steward '${node.id}' is ${node.statusName}: it cannot take new children`);
    if (definition?.kind !== 'actor') throw new InvalidArgument('spawn: expected an actor definition from defineActor()');
    if (definition.behaviour.durable !== undefined)
      throw new InvalidArgument(
        `spawn: actor type '${definition.name}' is durable: reach it with system.ref(${definition.name}, id) (it wakes on its first message)`,
      );
    checkKeys(spawnWhere, options, SPAWN_KEYS, definition.name);
    const id = options.id ?? `${definition.name}-${++this.#nextId}`;
    if (typeof id !== 'string' || id.length === 0) throw new InvalidArgument('spawn: id must be a non-empty string');
    const host = options.host;
    if (definition.hosted === true) {
      if (host === undefined || typeof host?.close !== 'function' || typeof host.name !== 'string')
        throw new InvalidArgument(`spawn: actor type '${definition.name}' runs on an actor host: pass { host } (for example createWorkerHost())`);
    } else if (host !== undefined) {
      throw new InvalidArgument(`spawn: actor type '${definition.name}' runs in this thread; only types made for a host (workerActor) take { host }`);
    }
    const cell = new Cell(this.#typeOf(definition as unknown as ActorDefinition, options), id, options.args);
    const ref = new ActorRef(cell);
    cell.ref = ref;
    cell.parent = node;
    if (host !== undefined) cell.host = host;
    const incarnation = (options as { [START_INCARNATION]?: unknown })[START_INCARNATION];
    if (typeof incarnation === 'number' && Number.isInteger(incarnation) && incarnation > 1) cell.incarnation = incarnation;
    // Registered before it starts (one look-up of the id, not a check and then an insert): an
    // init that spawns an actor with this id meets ACTOR_EXISTS. An init that throws takes it out.
    if (!this.#cells.add(cell)) throw new ActorExists(id);
    try {
      cell.start();
    } catch (e) {
      this.#cells.delete(id, cell);
      throw e;
    }
    if (host !== undefined) this.#hosts.add(host);
    node.add(cell);
    return ref;
  }

  #stewardUnder(parent: StewardNode, name: string, options: StewardOptions): Steward {
    if (this.#status !== 'running') throw new ShuttingDown(this.name);
    if (typeof name !== 'string' || name.length === 0 || name.includes('/'))
      throw new InvalidArgument(`steward: name must be a non-empty string without '/', got ${JSON.stringify(name)}`);
    if (name === 'root' || this.#stewards.has(name)) throw new InvalidArgument(`steward: a steward '${name}' exists already`);
    checkKeys(`steward '${name}'`, options, STEWARD_KEYS);
    if (!parent.running) throw new InvalidArgument(`steward '${parent.id}' is ${parent.statusName}: it cannot take new children`);
    const node = new StewardNode(this.#core, name, parent, resolveStewardOptions(options, parent));
    this.#stewards.set(name, node);
    parent.add(node);
    this.#core.emit({ type: 'spawned', actor: name, actorType: 'steward', at: this.#core.clock.now() });
    this.#core.emit({ type: 'started', actor: name, actorType: 'steward', incarnation: 1, at: this.#core.clock.now() });
    return new Steward(node, this.#host);
  }

  /**
   * The ref of the actor with `id`, or undefined. With a protocol, only an actor that speaks it
   * is returned, typed accordingly.
   *
   * @example
   * ```ts
   * const c = system.lookup(CounterProtocol, 'c1'); // ActorRef<typeof CounterProtocol> | undefined
   * ```
   */
  lookup<P extends AnyProtocol>(protocol: P, id: string): ActorRef<P> | undefined;
  lookup(id: string): ActorRef | undefined;
  lookup(a: AnyProtocol | string, b?: string): ActorRef | undefined {
    if (typeof a === 'string') return this.#cells.get(a)?.ref;
    const cell = this.#cells.get(b as string);
    if (cell === undefined || cell.def.protocol.name !== a.name) return undefined;
    return cell.ref;
  }

  /**
   * Stop an actor at its next turn boundary (ahead of queued messages, which then fail with
   * `ACTOR_STOPPED` or become dead letters), run its `onStop`, and forget its id.
   * Rejects with `ACTOR_NOT_FOUND` for an unknown id.
   *
   * @example
   * ```ts
   * await system.stop(counter);
   * ```
   */
  stop(target: ActorRef | string): Promise<void> {
    const cell = this.#find(target);
    if (cell === undefined) return Promise.reject(new ActorNotFound(String(typeof target === 'string' ? target : target.id)));
    return cell.requestStop('stopped');
  }

  /**
   * Restart an actor at its next turn boundary: `onStop`, then fresh state from `init`, keeping its
   * id, ref and queued messages. Does not count against its restart intensity.
   */
  restart(target: ActorRef | string): Promise<void> {
    const cell = this.#find(target);
    if (cell === undefined) return Promise.reject(new ActorNotFound(String(typeof target === 'string' ? target : target.id)));
    return cell.requestRestart();
  }

  /**
   * Put a durable actor to sleep now, as an idle timeout would: its memory is freed (its state is
   * in the store), and its next message wakes it. Waits up to `waitMs` (default 2 000) for it to
   * be idle (no turn running, nothing queued, nothing waiting for a commit); resolves true once
   * it sleeps, false when it stayed busy. Rejects `ACTOR_NOT_FOUND` for an unknown id and
   * `INVALID_ARGUMENT` for an actor that is not durable.
   */
  async passivate(target: ActorRef | string, options: { readonly waitMs?: number } = {}): Promise<boolean> {
    const cell = this.#find(target);
    if (cell === undefined) throw new ActorNotFound(String(typeof target === 'string' ? target : target.id));
    const slot = cell.durable;
    if (slot === null) throw new InvalidArgument(`passivate: '${cell.id}' is not a durable actor`);
    const until = Date.now() + (options.waitMs ?? 2_000);
    for (;;) {
      if (cell.status >= STOPPING) return true;
      if (slot.idle(cell)) {
        await slot.durability.passivate(cell);
        return true;
      }
      if (Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The actor's summary and its state as `inspect` renders it, read between turns. */
  inspect(target: ActorRef | string): Promise<ActorSnapshot> {
    const cell = this.#find(target);
    if (cell === undefined) return Promise.reject(new ActorNotFound(String(typeof target === 'string' ? target : target.id)));
    return cell.requestInspect();
  }

  /**
   * Trace an actor's messages: every ask and tell it receives, and the outcome of every ask (the
   * reply or the error), until the returned function is called. Costs nothing while nobody traces.
   * Rejects nothing: an unknown target throws `ACTOR_NOT_FOUND`.
   *
   * @example
   * ```ts
   * const off = system.trace('teller', (e) => console.log(e.dir, e.kind, e.message));
   * ```
   */
  trace(target: ActorRef | string, listener: (event: TraceEvent) => void): () => void {
    const cell = this.#find(target);
    if (cell === undefined) throw new ActorNotFound(String(typeof target === 'string' ? target : target.id));
    return cell.addTracer(listener);
  }

  /** The actor hosts (worker pools) this system's actors were spawned on. */
  hosts(): ActorHost[] {
    return [...this.#hosts];
  }

  /** A summary of every live actor, in spawn order. */
  actors(): ActorSummary[] {
    return Array.from(this.#cells.values(), (c) => c.summary());
  }

  /** The system's counters. */
  stats(): SystemStats {
    return {
      ...this.#core.counters,
      name: this.name,
      status: this.#status,
      actors: this.#cells.size,
      pendingAsks: this.#core.deadlines.live,
      durable: this.#core.durability?.stats() ?? null,
    };
  }

  /**
   * Drain and stop. New asks and tells from outside the system are refused (`SHUTTING_DOWN`, dead
   * letters), while queued and in-flight work finishes (asks that in-flight work makes are still
   * served). Then every actor stops, in reverse spawn order. Work still running at the deadline
   * is abandoned (its callers get `ACTOR_STOPPED`) and named in the report. Calling it again
   * returns the same report.
   *
   * @example
   * ```ts
   * const report = await system.shutdown({ timeoutMs: 5_000 });
   * if (!report.clean) console.error('unfinished:', report.unfinished);
   * ```
   */
  shutdown(options: { readonly timeoutMs?: number } = {}): Promise<ShutdownReport> {
    const unknown = unknownKey('shutdown', options, SHUTDOWN_KEYS);
    if (unknown !== null) return Promise.reject(unknown);
    const placement = this.#core.placement;
    this.#shutdown ??= drainAndStop(
      {
        leave: placement === null ? null : () => placement.cluster.leave(),
        disconnect: placement === null ? null : () => placement.cluster.close(),
        core: this.#core,
        cells: this.#cells,
        root: this.#root,
        hosts: this.#hosts,
        durability: this.#core.durability,
        setStatus: (status) => {
          this.#status = status;
        },
        stopWallClock: () => clearInterval(this.#wallTimer),
      },
      options.timeoutMs ?? this.#defaults.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs,
    );
    return this.#shutdown;
  }

  #find(target: ActorRef | string): Cell | undefined {
    if (typeof target === 'string') return this.#cells.get(target);
    if (!(target instanceof ActorRef)) return undefined;
    const cell = cellOf(target);
    return this.#cells.get(cell.id) === cell ? cell : undefined;
  }
}

/**
 * Create an actor system: the home of actors, their dispatcher, deadlines and event streams.
 *
 * @example
 * ```ts
 * const system = createSystem({ name: 'demo', askTimeoutMs: 2_000 });
 * const counter = system.spawn(Counter, { id: 'c1', args: {} });
 * console.log(await counter.ask('add', { key: 'a', by: 2 })); // 2
 * await system.shutdown();
 * ```
 */
export function createSystem(options: SystemOptions = {}): ActorSystem {
  return new ActorSystem(options);
}

function openDurability(core: SystemCore, options: SystemOptions): Durability {
  const store = options.store as SystemOptions['store'];
  if (typeof store?.open !== 'function' || typeof store.name !== 'string')
    throw new InvalidArgument('createSystem: store must be an ActorStore (sqliteStore(), postgresStore(), memoryStore())');
  const d = options.durable ?? {};
  const passivateAfterMs = d.passivateAfterMs ?? 300_000;
  const maxActive = d.maxActive ?? 100_000;
  if (!(passivateAfterMs > 0)) throw new InvalidArgument(`createSystem: durable.passivateAfterMs must be > 0, got ${String(passivateAfterMs)}`);
  if (!Number.isInteger(maxActive) || maxActive < 1)
    throw new InvalidArgument(`createSystem: durable.maxActive must be a positive integer, got ${String(maxActive)}`);
  if (d.onCommit !== undefined && typeof d.onCommit !== 'function') throw new InvalidArgument('createSystem: durable.onCommit must be a function');
  const reminderPollMs = d.reminderPollMs ?? 1_000;
  if (!(reminderPollMs >= 10) || !Number.isFinite(reminderPollMs))
    throw new InvalidArgument(`createSystem: durable.reminderPollMs must be >= 10, got ${String(reminderPollMs)}`);
  const durability = new Durability(core, { store, passivateAfterMs, maxActive, reminderPollMs, shared: options.cluster !== undefined });
  durability.observer = d.onCommit ?? null;
  for (const def of d.types ?? []) {
    if (def?.kind !== 'actor' || def.behaviour.durable === undefined)
      throw new InvalidArgument('createSystem: durable.types must list durable actor definitions');
    durability.reminders.register(def as unknown as ActorDefinition);
  }
  return durability;
}
