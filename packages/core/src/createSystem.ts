import type { ActorHost } from './ActorHost.js';
import { ActorRef, cellOf } from './ActorRef.js';
import { type Clock, systemClock } from './Clock.js';
import type { ActorDefinition } from './defineActor.js';
import type { AnyProtocol } from './defineProtocol.js';
import { EventStream } from './EventStream.js';
import { ActorExists, ActorNotFound, InvalidArgument, ShuttingDown, toError } from './errors.js';
import type { DeadLetter, LifecycleEvent } from './events.js';
import type { ActorSnapshot, ActorSummary, StewardSnapshot, SystemCounters, TraceEvent } from './inspection.js';
import { Cell } from './internal/cell/Cell.js';
import { checkKeys, unknownKey } from './internal/checkKeys.js';
import { SHUTDOWN_KEYS, SPAWN_KEYS, STEWARD_KEYS, SYSTEM_KEYS } from './internal/optionKeys.js';
import { type ResolvedStewardOptions, type StewardDelegate, StewardNode } from './internal/StewardNode.js';
import { type ObserverState, SystemCore } from './internal/SystemCore.js';
import { type Logger, silentLogger } from './Logger.js';
import {
  type ActorOptions,
  type BackoffOptions,
  DEFAULTS,
  defaultSweepMs,
  type HeartbeatOptions,
  type MailboxOptions,
  type ResolvedActorOptions,
  type RestartIntensity,
  type RestartType,
  type StewardOptions,
  type ValidationOptions,
  type WhileDown,
} from './options.js';
import { Steward, type StewardHost } from './Steward.js';

/** Options of {@link createSystem}. */
export interface SystemOptions {
  /** The system's name, in logs and errors (default `holdfast`). */
  readonly name?: string;
  /** The clock for deadlines, timers and restart windows (default: the real one). */
  readonly clock?: Clock;
  /** Where actors and the system log (default: nowhere). A pino logger fits as it is. */
  readonly logger?: Logger;
  /** The default ask timeout in ms (default 5 000). Actor and call options override it. */
  readonly askTimeoutMs?: number;
  /** Which messages are checked against their schemas (see {@link ValidationOptions}). */
  readonly validate?: ValidationOptions;
  /** The default mailbox bound (capacity 10 000, policy `reject`). */
  readonly mailbox?: MailboxOptions;
  /** The default restart type of spawned actors (default `permanent`). */
  readonly restart?: RestartType;
  /** The default restart intensity of each spawned actor (default 3 within 5 000 ms). */
  readonly intensity?: RestartIntensity;
  /** How long `shutdown()` waits for queued and in-flight work (default 10 000 ms). */
  readonly drainTimeoutMs?: number;
  /** Hang detection: the default of every steward and actor (timeout 30 000 ms, sweep every 1 000 ms). */
  readonly heartbeat?: HeartbeatOptions;
  /** Backoff between restarts of actors made with `system.spawn` (default: none). */
  readonly backoff?: BackoffOptions;
  /** What the mailbox of an actor made with `system.spawn` does while it is down (default `hold`). */
  readonly whileDown?: WhileDown;
  /**
   * The root steward's own limit: how often the stewards under it may escalate (and be restarted)
   * before the system reports `fatal` (default 3 within 5 000 ms).
   */
  readonly rootIntensity?: RestartIntensity;
  /** The random source of backoff jitter, in [0, 1) (default `Math.random`). */
  readonly random?: () => number;
  /** Receives turn durations, for metrics (default: turns are not timed). */
  readonly turnObserver?: TurnObserver;
}

/**
 * Receives how long turns take, for metrics (the service runtime feeds a Prometheus histogram
 * with it). Async turns are always timed; synchronous ones are sampled, one in `sampleEvery`,
 * because reading the clock costs more than a short turn.
 *
 * @example
 * ```ts
 * createSystem({ turnObserver: { sampleEvery: 16, observe: (type, message, ms) => histogram.observe({ type }, ms / 1000) } });
 * ```
 */
export interface TurnObserver {
  /** Time one synchronous turn in this many (default 16; 1 times every turn). */
  readonly sampleEvery?: number;
  /** Called after a timed turn, with the actor type, the message and the duration in ms. */
  observe(actorType: string, message: string, durationMs: number): void;
}

/**
 * Options of `system.spawn`. `args` is required when the behaviour's `init` needs it; `host` is
 * required for (and only taken by) actor types that run on a host, such as `workerActor(...)`.
 */
export type SpawnOptions<A> = ActorOptions & { readonly id?: string; readonly host?: ActorHost } & (undefined extends A
    ? { readonly args?: A }
    : { readonly args: A });

/** @internal A system option of actor hosts: called on every `ctx.heartbeat()` (the host's own progress signal). */
export const PROGRESS_HOOK: unique symbol = Symbol('holdfast.progressHook');

/** @internal A spawn option of actor hosts: the incarnation the actor starts at (its stand-in's). */
export const START_INCARNATION: unique symbol = Symbol('holdfast.startIncarnation');

/** @internal The key of the method that runs the ready actors now (an actor host's, after a batch came in). */
export const RUN_READY: unique symbol = Symbol('holdfast.runReady');

/** @internal The key of the method that makes a steward whose decisions are made elsewhere (an actor host's). */
export const DELEGATED_STEWARD: unique symbol = Symbol('holdfast.delegatedSteward');

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
  readonly #cells = new Map<string, Cell>();
  readonly #stewards = new Map<string, StewardNode>();
  readonly #root: StewardNode;
  readonly #host: StewardHost;
  readonly #wallTimer: ReturnType<typeof setInterval>;
  readonly #defaults: SystemOptions;
  readonly #optionsCache = new WeakMap<object, ResolvedActorOptions>();
  #status: SystemStatus = 'running';
  #shutdown: Promise<ShutdownReport> | null = null;
  #nextId = 0;
  /** The hosts this system's actors were spawned on: closed at shutdown. */
  readonly #hosts = new Set<ActorHost>();

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
    const wall = { now: Date.now() };
    this.#wallTimer = setInterval(() => {
      wall.now = Date.now();
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
    });
    const heartbeat = options.heartbeat ?? {};
    const intensity = options.rootIntensity ?? {};
    this.#root = new StewardNode(
      this.#core,
      'root',
      null,
      this.#stewardOptions(
        { heartbeat, intensity, ...(options.backoff && { backoff: options.backoff }), ...(options.whileDown && { whileDown: options.whileDown }) },
        null,
      ),
    );
    this.#host = {
      spawnUnder: (node, def, o) => this.#spawnUnder(node, def, o),
      stewardUnder: (node, name, o) => this.#stewardUnder(node, name, o),
    };
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

  #spawnUnder(node: StewardNode, definition: ActorDefinition, options: SpawnOptions<unknown> & { args?: unknown }): ActorRef {
    if (this.#status !== 'running') throw new ShuttingDown(this.name);
    if (!node.running) throw new InvalidArgument(`steward '${node.id}' is ${node.statusName}: it cannot take new children`);
    if (definition?.kind !== 'actor') throw new InvalidArgument('spawn: expected an actor definition from defineActor()');
    checkKeys(`spawn '${definition.name}'`, options, SPAWN_KEYS);
    const id = options.id ?? `${definition.name}-${++this.#nextId}`;
    if (typeof id !== 'string' || id.length === 0) throw new InvalidArgument('spawn: id must be a non-empty string');
    if (this.#cells.has(id)) throw new ActorExists(id);
    const host = options.host;
    if (definition.hosted === true) {
      if (host === undefined || typeof host?.close !== 'function' || typeof host.name !== 'string')
        throw new InvalidArgument(`spawn: actor type '${definition.name}' runs on an actor host: pass { host } (for example createWorkerHost())`);
    } else if (host !== undefined) {
      throw new InvalidArgument(`spawn: actor type '${definition.name}' runs in this thread; only types made for a host (workerActor) take { host }`);
    }
    const cell = new Cell(
      this.#core,
      definition as unknown as ActorDefinition,
      id,
      options.args,
      this.#resolveOptions(definition as unknown as ActorDefinition, options),
    );
    const ref = new ActorRef(cell);
    cell.ref = ref;
    cell.parent = node;
    if (host !== undefined) {
      cell.host = host;
      this.#hosts.add(host);
    }
    const incarnation = (options as { [START_INCARNATION]?: unknown })[START_INCARNATION];
    if (typeof incarnation === 'number' && Number.isInteger(incarnation) && incarnation > 1) cell.incarnation = incarnation;
    cell.start();
    this.#cells.set(id, cell);
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
    const node = new StewardNode(this.#core, name, parent, this.#stewardOptions(options, parent));
    this.#stewards.set(name, node);
    parent.add(node);
    this.#core.emit({ type: 'spawned', actor: name, actorType: 'steward', at: this.#core.clock.now() });
    this.#core.emit({ type: 'started', actor: name, actorType: 'steward', incarnation: 1, at: this.#core.clock.now() });
    return new Steward(node, this.#host);
  }

  /** @internal Run the actors that have work now, rather than from the microtask queued for them. */
  [RUN_READY](): void {
    this.#core.dispatcher.runNow();
  }

  /** @internal A steward under the root whose children's failures are decided by `delegate`. */
  [DELEGATED_STEWARD](name: string, options: StewardOptions, delegate: StewardDelegate): Steward {
    const steward = this.#stewardUnder(this.#root, name, options);
    (this.#stewards.get(name) as StewardNode).delegate = delegate;
    return steward;
  }

  #stewardOptions(o: StewardOptions, parent: StewardNode | null): ResolvedStewardOptions {
    const hangTimeoutMs = o.heartbeat?.timeoutMs ?? parent?.opts.hangTimeoutMs ?? DEFAULTS.hangTimeoutMs;
    const sweepMs = o.heartbeat?.sweepMs ?? (o.heartbeat?.timeoutMs === undefined ? parent?.opts.sweepMs : undefined) ?? defaultSweepMs(hangTimeoutMs);
    const resolved: ResolvedStewardOptions = Object.freeze({
      strategy: o.strategy ?? 'one-for-one',
      maxRestarts: o.intensity?.maxRestarts ?? DEFAULTS.maxRestarts,
      withinMs: o.intensity?.withinMs ?? DEFAULTS.withinMs,
      backoff: o.backoff ?? null,
      hangTimeoutMs,
      sweepMs,
      whileDown: o.whileDown ?? parent?.opts.whileDown ?? 'hold',
      restart: o.restart ?? 'permanent',
    });
    checkStewardOptions(resolved);
    return resolved;
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
    this.#shutdown ??= this.#drainAndStop(options.timeoutMs ?? this.#defaults.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs);
    return this.#shutdown;
  }

  async #drainAndStop(timeoutMs: number): Promise<ShutdownReport> {
    const core = this.#core;
    const clock = core.clock;
    const started = clock.now();
    this.#status = 'draining';
    core.draining = true;
    for (const cell of this.#cells.values()) cell.closeGate();
    core.logger.info({ actors: this.#cells.size, timeoutMs }, 'draining');
    const quiet = await new Promise<boolean>((resolve) => {
      const timer = clock.setTimeout(() => {
        core.idleCheck = null;
        resolve(false);
      }, timeoutMs);
      core.idleCheck = () => {
        if (!this.#allQuiet()) return;
        core.idleCheck = null;
        clock.clearTimeout(timer);
        resolve(true);
      };
      core.noteIdle();
    });
    const cells = [...this.#cells.values()].reverse();
    const unfinished = quiet
      ? []
      : cells.filter((c) => !c.quiet).map((c) => ({ id: c.id, type: c.def.name, mailbox: c.mailbox.length, busy: c.busy, deferred: c.summary().deferred }));
    if (!quiet) core.logger.warn({ unfinished }, 'drain deadline passed; abandoning unfinished work');
    await this.#root.shutdown((cell) => (cell.quiet ? cell.requestStop('shutdown') : cell.abandon()));
    for (const host of this.#hosts) {
      try {
        await host.close();
      } catch (e) {
        core.logger.error({ err: toError(e), host: host.name }, 'closing an actor host failed');
        core.emit({ type: 'error', actor: host.name, actorType: 'host', incarnation: 0, where: 'host close', error: toError(e), at: clock.now() });
      }
    }
    core.deadlines.close();
    clearInterval(this.#wallTimer);
    this.#status = 'stopped';
    const durationMs = clock.now() - started;
    core.logger.info({ clean: quiet, durationMs }, 'stopped');
    return { clean: quiet, unfinished, durationMs };
  }

  #allQuiet(): boolean {
    for (const cell of this.#cells.values()) if (!cell.quiet) return false;
    return true;
  }

  #find(target: ActorRef | string): Cell | undefined {
    if (typeof target === 'string') return this.#cells.get(target);
    if (!(target instanceof ActorRef)) return undefined;
    const cell = cellOf(target);
    return this.#cells.get(cell.id) === cell ? cell : undefined;
  }

  #resolveOptions(def: ActorDefinition, o: ActorOptions): ResolvedActorOptions {
    const plain =
      o.mailbox === undefined &&
      o.askTimeoutMs === undefined &&
      o.restart === undefined &&
      o.intensity === undefined &&
      o.validate === undefined &&
      o.stopTimeoutMs === undefined &&
      o.heartbeat === undefined;
    if (plain) {
      const cached = this.#optionsCache.get(def);
      if (cached !== undefined) return cached;
    }
    const d = this.#defaults;
    const t = def.behaviour.options ?? {};
    const resolved: ResolvedActorOptions = Object.freeze({
      capacity: o.mailbox?.capacity ?? t.mailbox?.capacity ?? d.mailbox?.capacity ?? DEFAULTS.capacity,
      overflow: o.mailbox?.overflow ?? t.mailbox?.overflow ?? d.mailbox?.overflow ?? DEFAULTS.overflow,
      askTimeoutMs: o.askTimeoutMs ?? t.askTimeoutMs ?? d.askTimeoutMs ?? DEFAULTS.askTimeoutMs,
      restart: o.restart ?? t.restart ?? d.restart ?? DEFAULTS.restart,
      maxRestarts: o.intensity?.maxRestarts ?? t.intensity?.maxRestarts ?? d.intensity?.maxRestarts ?? DEFAULTS.maxRestarts,
      withinMs: o.intensity?.withinMs ?? t.intensity?.withinMs ?? d.intensity?.withinMs ?? DEFAULTS.withinMs,
      validateInput: o.validate?.input ?? t.validate?.input ?? d.validate?.input ?? true,
      validateReply: o.validate?.reply ?? t.validate?.reply ?? d.validate?.reply ?? process.env.NODE_ENV !== 'production',
      stopTimeoutMs: o.stopTimeoutMs ?? t.stopTimeoutMs ?? DEFAULTS.stopTimeoutMs,
      hangTimeoutMs: o.heartbeat?.timeoutMs ?? t.heartbeat?.timeoutMs,
    });
    checkOptions(resolved);
    if (plain) this.#optionsCache.set(def, resolved);
    return resolved;
  }
}

function observerState(o: TurnObserver | undefined, logger: Logger): ObserverState | null {
  if (o === undefined) return null;
  const every = o.sampleEvery ?? 16;
  if (!Number.isInteger(every) || every < 1) throw new InvalidArgument(`turnObserver.sampleEvery must be a positive integer, got ${every}`);
  if (typeof o.observe !== 'function') throw new InvalidArgument('turnObserver.observe must be a function');
  const observe = (type: string, message: string, ms: number) => {
    try {
      o.observe(type, message, ms);
    } catch (e) {
      // Metrics must never break a turn: report and go on.
      logger.error({ err: toError(e) }, 'turnObserver.observe threw');
    }
  };
  return { every, countdown: every, observe };
}

function checkOptions(o: ResolvedActorOptions): void {
  if (!Number.isInteger(o.capacity) || o.capacity < 1) throw new InvalidArgument(`mailbox.capacity must be a positive integer, got ${o.capacity}`);
  if (!['reject', 'drop-oldest', 'wait'].includes(o.overflow))
    throw new InvalidArgument(`mailbox.overflow must be reject, drop-oldest or wait, got ${o.overflow}`);
  if (!(o.askTimeoutMs > 0) || !Number.isFinite(o.askTimeoutMs))
    throw new InvalidArgument(`askTimeoutMs must be a positive finite number, got ${o.askTimeoutMs}`);
  if (!['permanent', 'transient', 'temporary'].includes(o.restart))
    throw new InvalidArgument(`restart must be permanent, transient or temporary, got ${o.restart}`);
  if (!Number.isInteger(o.maxRestarts) || o.maxRestarts < 0) throw new InvalidArgument(`intensity.maxRestarts must be an integer >= 0, got ${o.maxRestarts}`);
  if (!(o.withinMs > 0)) throw new InvalidArgument(`intensity.withinMs must be > 0, got ${o.withinMs}`);
  if (!(o.stopTimeoutMs > 0)) throw new InvalidArgument(`stopTimeoutMs must be > 0, got ${o.stopTimeoutMs}`);
  if (o.hangTimeoutMs !== undefined && !(o.hangTimeoutMs > 0)) throw new InvalidArgument(`heartbeat.timeoutMs must be > 0, got ${o.hangTimeoutMs}`);
}

function checkStewardOptions(o: ResolvedStewardOptions): void {
  if (!['one-for-one', 'one-for-all', 'rest-for-one'].includes(o.strategy))
    throw new InvalidArgument(`strategy must be one-for-one, one-for-all or rest-for-one, got ${o.strategy}`);
  if (!Number.isInteger(o.maxRestarts) || o.maxRestarts < 0) throw new InvalidArgument(`intensity.maxRestarts must be an integer >= 0, got ${o.maxRestarts}`);
  if (!(o.withinMs > 0)) throw new InvalidArgument(`intensity.withinMs must be > 0, got ${o.withinMs}`);
  if (!(o.hangTimeoutMs > 0)) throw new InvalidArgument(`heartbeat.timeoutMs must be > 0, got ${o.hangTimeoutMs}`);
  if (!(o.sweepMs > 0) || !Number.isFinite(o.sweepMs)) throw new InvalidArgument(`heartbeat.sweepMs must be a positive finite number, got ${o.sweepMs}`);
  if (!['hold', 'refuse'].includes(o.whileDown)) throw new InvalidArgument(`whileDown must be hold or refuse, got ${o.whileDown}`);
  if (!['permanent', 'transient', 'temporary'].includes(o.restart))
    throw new InvalidArgument(`restart must be permanent, transient or temporary, got ${o.restart}`);
  const b = o.backoff;
  if (b !== null) {
    if (!(b.minMs >= 0) || !(b.maxMs >= b.minMs) || !Number.isFinite(b.maxMs))
      throw new InvalidArgument(`backoff: need 0 <= minMs <= maxMs (finite), got ${JSON.stringify(b)}`);
    if (b.factor !== undefined && !(b.factor >= 1)) throw new InvalidArgument(`backoff.factor must be >= 1, got ${b.factor}`);
    if (b.jitter !== undefined && !(b.jitter >= 0 && b.jitter <= 1)) throw new InvalidArgument(`backoff.jitter must be in [0, 1], got ${b.jitter}`);
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
