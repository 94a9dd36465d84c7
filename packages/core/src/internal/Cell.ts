import type { ActorHost } from '../ActorHost.js';
import type { ActorRef } from '../ActorRef.js';
import type { TimerHandle } from '../Clock.js';
import type { ActorDefinition, ScheduleWhen } from '../defineActor.js';
import { isBecome } from '../defineActor.js';
import { CompiledMessage, type Protocol } from '../defineProtocol.js';
import {
  ActorCrashed,
  ActorStopped,
  AskTimeout,
  Cancelled,
  type CrashReason,
  Deadlock,
  InvalidArgument,
  InvalidMessage,
  InvalidReply,
  isHoldfastError,
  MailboxFull,
  type RestartDecision,
  ShuttingDown,
  type StopReason,
  toError,
} from '../errors.js';
import type { DeadLetterReason, RestartRecord } from '../events.js';
import type { ActorSnapshot, ActorSummary, ChildActorSnapshot, StatusName, TraceEvent } from '../inspection.js';
import type { Logger } from '../Logger.js';
import type { AskOptions, ResolvedActorOptions } from '../options.js';
import { type ChainTurn, currentTurn, enterSync, findCycle, leaveSync, type RunningCell, runAsync, syncState } from './callChain.js';
import { checkKeys, unknownKey } from './checkKeys.js';
import type { Bucket, Expirable } from './Deadlines.js';
import type { Runnable } from './Dispatcher.js';
import { Envelope, type EnvelopeHost, Letter, promiseFor, type Turn } from './Envelope.js';
import { Mailbox } from './Mailbox.js';
import { ASK_KEYS, SCHEDULE_KEYS } from './optionKeys.js';
import { RingBuffer } from './RingBuffer.js';
import type { StewardNode } from './StewardNode.js';
import { CELL, ChildRecord, type Supervised } from './Supervised.js';
import type { ObserverState, SystemCore } from './SystemCore.js';
import { TurnContext } from './TurnContext.js';
import { toJSONSafe } from './toJSONSafe.js';

/**
 * Lifecycle states, in order. Plain numbers, not an enum: with isolated modules an enum is an
 * object, and these are compared on every message.
 */
const Status = {
  Starting: 0,
  Running: 1,
  Restarting: 2,
  Stopping: 3,
  Stopped: 4,
} as const;
type Status = (typeof Status)[keyof typeof Status];
const STARTING = 0;
const RUNNING = 1;
const RESTARTING = 2;
const STOPPING = 3;

/** Bits of `Cell.gate`: why the slow path of a send must look closer. */
const GATE_CLOSED = 1; // stopped, or the system drains
const GATE_DOWN = 2; // down, and its steward refuses messages meanwhile
const GATE_ZOMBIE = 4; // a fenced turn of an older incarnation may still send to this actor
const GATE_TRACE = 8; // someone traces this actor's messages

const STATUS_NAMES: readonly StatusName[] = ['starting', 'running', 'restarting', 'stopping', 'stopped'];

type AnyHandler = (state: unknown, input: unknown, ctx: TurnContext) => unknown;

/**
 * A message bound to the handler of one actor type: what a letter carries, so that the owner
 * loop reaches the handler in one load. `async` is learned on the first promise.
 */
class BoundMessage extends CompiledMessage {
  /** How the owner loop calls it: PLAIN, WITH_CTX or ASYNC (one load per turn). */
  mode: number;
  constructor(
    message: CompiledMessage,
    readonly fn: AnyHandler,
    /** Declares a third parameter: it gets a `ctx` (made per turn only for those that do). */
    readonly usesCtx: boolean,
  ) {
    super(message.name, message.input, message.reply);
    this.mode = fn instanceof AsyncFunction ? ASYNC : usesCtx ? WITH_CTX : PLAIN;
  }

  /** It returned a promise: later turns run under AsyncLocalStorage to keep the call chain. */
  learnAsync(): void {
    this.mode = ASYNC;
  }
}

/** Sync handler without a ctx parameter. */
const PLAIN = 0;
/** Sync handler that takes a ctx. */
const WITH_CTX = 1;
/** Async handler (or one that returned a promise once): runs under AsyncLocalStorage. */
const ASYNC = 2;

/** Message name → bound message, for one actor type (the same shape as a protocol's table). */
type BoundTable = Protocol['table'];

const compiled = new WeakMap<object, BoundTable>();
const AsyncFunction = (async () => {}).constructor;

function bindHandlers(def: ActorDefinition): BoundTable {
  let table = compiled.get(def);
  if (table === undefined) {
    const handlers = def.behaviour.handlers as Record<string, AnyHandler>;
    const t: Record<string, BoundMessage> = {};
    for (const name of Object.keys(def.protocol.messages)) {
      const fn = handlers[name] as AnyHandler;
      t[name] = new BoundMessage(def.protocol.table[name] as CompiledMessage, fn, fn.length >= 3 || fn.length === 0);
    }
    table = t;
    compiled.set(def, table);
  }
  return table;
}

/** A `send` waiting for room in a `wait` mailbox. */
class SendWaiter implements Expirable {
  deadline = 0;
  bucket: Bucket | null = null;
  slot = 0;
  settled = false;
  constructor(
    readonly msg: CompiledMessage,
    readonly input: unknown,
    readonly cell: Cell,
    readonly resolve: () => void,
    readonly reject: (e: unknown) => void,
    readonly timeoutMs: number,
  ) {}
  settle(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.cell.core.deadlines.done(this);
    if (error === undefined) this.resolve();
    else this.reject(error);
  }
  expire(): void {
    this.cell.core.counters.timeouts++;
    this.settle(new AskTimeout(this.cell.id, this.msg.name, this.timeoutMs));
  }
}

type Waiting = Envelope | SendWaiter;

/** The parts of a cell that most actors never use. */
class Rare {
  restarts = 0;
  dropped = 0;
  stopReason: StopReason = 'stopped';
  record: ChildRecord | null = null;
  /** Fenced turns still running (a hung turn that went on). */
  zombies = 0;
  /** The end of the incarnation in progress (onStop running). */
  ending: Promise<void> | null = null;
  /** When the async turn in progress started (performance.now), when turns are observed. */
  turnStart = 0;
  /** Listeners of this actor's message trace. */
  tracers: Set<(event: TraceEvent) => void> | null = null;
  timers: Set<TimerHandle> | null = null;
  deferred: Set<Envelope> | null = null;
  log: Logger | null = null;
  stopped: Array<() => void> | null = null;
  /** Where the actor's turns run, when not on this thread. */
  host: ActorHost | null = null;
}

type SystemMessage =
  | { readonly kind: 'stop'; readonly reason: StopReason; readonly done: () => void }
  | { readonly kind: 'restart'; readonly done: () => void }
  | { readonly kind: 'end'; readonly reason: StopReason; readonly done: () => void }
  | { readonly kind: 'exit' }
  | { readonly kind: 'inspect'; readonly done: (snapshot: ActorSnapshot) => void };

/**
 * The owner loop of one actor: its mailbox, its state, and the turn now running. Persists
 * across restarts (the ref and id stay; the incarnation changes).
 */
export class Cell implements Runnable, EnvelopeHost, RunningCell, Supervised {
  readonly id: string;
  readonly def: ActorDefinition;
  readonly core: SystemCore;
  readonly opts: ResolvedActorOptions;
  readonly args: unknown;
  /** Message name → message bound to this type's handler (read on every send). */
  readonly table: BoundTable;
  ref!: ActorRef;
  /** Its steward (set when added to one). */
  parent!: StewardNode | null;
  state: unknown = undefined;
  status: Status = STARTING;
  incarnation = 1;
  scheduled = false;
  /**
   * 0 while the actor takes messages from anyone; 1 once it stops or the system drains. One field
   * to test on every send, instead of the status and the system's state.
   */
  gate = 0;
  /** A turn (async), a hook or a restart is in progress: nothing else runs. */
  busy = false;
  readonly mailbox = new Mailbox();
  waiters: RingBuffer<Waiting> | null = null;
  sys: SystemMessage[] | null = null;
  /** The message whose turn is running (an async handler awaiting), and its ctx if it has one. */
  current: Turn | null = null;
  currentCtx: TurnContext | null = null;
  /** The call-chain link of the tell whose handler runs synchronously, once it asked someone. */
  running: Letter | null = null;
  /**
   * A handler of this actor is running synchronously now (its message is the mailbox head).
   * A boolean on the cell, not a pointer in `syncState`: a store of true/false needs no GC write
   * barrier, and this is two stores per turn.
   */
  inHandler = false;
  turns = 0;
  /** Bumped by `ctx.heartbeat()` in a long turn. */
  beats = 0;
  /**
   * The last proof of progress of the turn in flight (its start, or its last `ctx.heartbeat()`),
   * on the system's clock: the steward's sweep compares it with the hang timeout. Stamped only
   * for turns that outlive their call (an async turn), so a synchronous turn pays nothing.
   */
  hbAt = 0;
  /** The current incarnation's state exists and its onStop is owed. */
  live = false;
  /** Wall-clock time of the last run of turns (±250 ms), or 0. */
  lastTurnAt = 0;
  /** What most actors never need, made on first use (an idle actor stays small). */
  #r: Rare | null = null;

  constructor(core: SystemCore, def: ActorDefinition, id: string, args: unknown, opts: ResolvedActorOptions) {
    this.core = core;
    this.def = def;
    this.id = id;
    this.args = args;
    this.opts = opts;
    this.table = bindHandlers(def);
  }

  get ready(): boolean {
    return !this.busy && (this.sys !== null || (this.status === RUNNING && this.mailbox.length > 0));
  }

  get statusName(): StatusName {
    return STATUS_NAMES[this.status] as StatusName;
  }

  // Supervised (getters, so that an idle actor does not carry them as fields).
  get kind(): typeof CELL {
    return CELL;
  }
  get typeName(): string {
    return this.def.name;
  }
  get restartType(): ResolvedActorOptions['restart'] {
    return this.opts.restart;
  }
  get gone(): boolean {
    return this.status === Status.Stopped;
  }
  get record(): ChildRecord {
    const rare = this.#rare;
    rare.record ??= new ChildRecord();
    return rare.record;
  }

  get #rare(): Rare {
    this.#r ??= new Rare();
    return this.#r;
  }

  get #stopReason(): StopReason {
    return this.#r?.stopReason ?? 'stopped';
  }

  /** Restarts since spawn. */
  get restarts(): number {
    return this.#r?.restarts ?? 0;
  }

  /** Messages dropped by `drop-oldest`. */
  get dropped(): number {
    return this.#r?.dropped ?? 0;
  }

  /** The logger bound to this incarnation. */
  get log(): Logger {
    const rare = this.#rare;
    rare.log ??= this.core.logger.child({ actor: this.id, type: this.def.name, incarnation: this.incarnation });
    return rare.log;
  }

  // ---------------------------------------------------------------- start

  /** Build the first incarnation. Throws (an `ACTOR_CRASHED`) when `init` throws. */
  start(): void {
    try {
      this.state = (this.def.behaviour.init as (a: unknown) => unknown)(this.args);
    } catch (e) {
      this.status = Status.Stopped;
      this.gate = 1;
      throw new ActorCrashed({ actor: this.id, message: null, reason: 'start-failed', decision: 'stop', incarnation: 1 }, toError(e));
    }
    this.live = true;
    this.core.emit({ type: 'spawned', actor: this.id, actorType: this.def.name, at: this.core.clock.now() });
    this.#startIncarnation();
  }

  #startIncarnation(): void {
    const onStart = this.def.behaviour.onStart;
    if (onStart === undefined) {
      this.#started();
      return;
    }
    const ctx = new TurnContext(this, null, null);
    let result: unknown;
    try {
      result = runHook(ctx, () => onStart.call(this.def.behaviour, this.state, ctx), onStart);
    } catch (e) {
      this.#crashedOutsideTurn(toError(e), 'start-failed', ctx);
      return;
    }
    if (isThenable(result)) {
      this.busy = true;
      result.then(
        () => {
          if (ctx.fenced) return;
          this.busy = false;
          this.#started();
        },
        (e: unknown) => {
          if (ctx.fenced) return;
          this.busy = false;
          this.#crashedOutsideTurn(toError(e), 'start-failed', ctx);
        },
      );
      return;
    }
    this.#started();
  }

  #started(): void {
    if (this.status >= Status.Stopping) return;
    this.status = Status.Running;
    this.core.emit({ type: 'started', actor: this.id, actorType: this.def.name, incarnation: this.incarnation, at: this.core.clock.now() });
    if (this.ready) this.core.dispatcher.schedule(this);
    // Restarted during a drain with nothing queued: the drain may be done.
    else if (this.core.draining) this.core.noteIdle();
  }

  // ---------------------------------------------------------------- enqueue (hot path)

  /** Queue an ask (the input is already validated). Never throws. */
  ask(msg: CompiledMessage, input: unknown, options: AskOptions | undefined): Promise<unknown> {
    const turn = currentTurn();
    // The common case (from outside any actor, no options, an open gate, room) in as little code
    // as possible, so that the JIT inlines it into the caller; everything else takes askSlow.
    if (options !== undefined || turn !== null || this.gate !== 0 || this.mailbox.length >= this.opts.capacity || this.waiters !== null) {
      return this.#askSlow(msg, input, options, turn);
    }
    const core = this.core;
    core.counters.asks++;
    const env = new Envelope(msg, input, this, null);
    const promise = promiseFor(env);
    core.deadlines.add(env, this.opts.askTimeoutMs);
    this.mailbox.push(msg, input, env);
    if (!this.scheduled && !this.busy) core.dispatcher.schedule(this);
    return promise;
  }

  #askSlow(msg: CompiledMessage, input: unknown, options: AskOptions | undefined, turn: ChainTurn | null): Promise<unknown> {
    const core = this.core;
    core.counters.asks++;
    let traced = false;
    if (this.gate !== 0) {
      const refused = this.#refuseAsk(turn);
      if (refused !== null) return Promise.reject(refused);
      traced = (this.gate & GATE_TRACE) !== 0;
    }
    if (turn !== null) {
      const cycle = findCycle(turn, this, this.id);
      if (cycle !== null) {
        core.counters.deadlocks++;
        return Promise.reject(new Deadlock(cycle));
      }
    }
    let timeoutMs = this.opts.askTimeoutMs;
    let signal: AbortSignal | undefined;
    if (options !== undefined) {
      const refused = this.#checkOptions(msg, options);
      if (refused !== null) return Promise.reject(refused);
      timeoutMs = options.timeoutMs ?? timeoutMs;
      signal = options.signal;
    }
    const mailbox = this.mailbox;
    let full = mailbox.length >= this.opts.capacity || (this.waiters !== null && this.waiters.length > 0);
    if (full) full = this.#isFull();
    if (full && this.opts.overflow === 'reject') {
      core.counters.mailboxFull++;
      return Promise.reject(new MailboxFull(this.id, this.opts.capacity));
    }
    const env = new Envelope(msg, input, this, turn);
    const promise = promiseFor(env);
    core.deadlines.add(env, timeoutMs);
    if (signal !== undefined) this.#watchSignal(env, signal);
    if (options?.transfer !== undefined) (env.extra ??= { signal: null, onAbort: null, controller: null }).transfer = options.transfer;
    if (traced) this.#traceAsk(msg, input, promise);
    if (full) {
      if (this.opts.overflow === 'wait') {
        this.waiters ??= new RingBuffer();
        this.waiters.push(env);
        return promise;
      }
      this.#dropOldest();
    }
    mailbox.push(msg, input, env);
    if (!this.scheduled && !this.busy) core.dispatcher.schedule(this);
    return promise;
  }

  /**
   * @internal An ask from an actor host's side (a message that came over a thread boundary, its
   * input checked by the sender): no call chain, no tracing, and the outcome goes to `resolve` /
   * `reject` instead of a promise. The mailbox bound was enforced by the sender.
   */
  hostAsk(
    msg: CompiledMessage,
    input: unknown,
    timeoutMs: number,
    signal: AbortSignal | null,
    resolve: (v: unknown) => void,
    reject: (e: unknown) => void,
  ): void {
    if (this.gate !== 0) {
      const refused = this.#refuseAsk(null);
      if (refused !== null) {
        reject(refused);
        return;
      }
    }
    this.core.counters.asks++;
    const env = new Envelope(msg, input, this, null);
    env.resolve = resolve;
    env.rejectFn = reject;
    this.core.deadlines.add(env, timeoutMs);
    if (signal !== null) this.#watchSignal(env, signal);
    this.mailbox.push(msg, input, env);
    if (!this.scheduled && !this.busy) this.core.dispatcher.schedule(this);
  }

  /** Queue a tell (the input is already validated). Never throws; failures become dead letters. */
  tell(msg: CompiledMessage, input: unknown): void {
    // The common case in as little code as possible, so that the JIT inlines it into every caller.
    if (this.gate !== 0 || this.mailbox.length >= this.opts.capacity || this.waiters !== null) {
      this.#tellSlow(msg, input);
      return;
    }
    this.mailbox.push(msg, input, null);
    if (!this.scheduled && !this.busy) this.core.dispatcher.schedule(this);
  }

  /** A tell when the gate is not open (stopped, draining, traced) or the mailbox is full. */
  #tellSlow(msg: CompiledMessage, input: unknown): void {
    let traced = false;
    if (this.gate !== 0) {
      const refused = this.#refuseTell();
      if (refused !== null) {
        this.#deadLetter(msg.name, input, refused, false);
        return;
      }
      traced = (this.gate & GATE_TRACE) !== 0;
    }
    const mailbox = this.mailbox;
    if (mailbox.length >= this.opts.capacity || this.waiters !== null) {
      if (this.#full(msg, input)) return;
    }
    mailbox.push(msg, input, null);
    if (!this.scheduled && !this.busy) this.core.dispatcher.schedule(this);
    if (traced) this.#trace({ actor: this.id, at: Date.now(), dir: 'in', kind: 'tell', message: msg.name, input });
  }

  // ---------------------------------------------------------------- message trace (the debug REPL)

  /** Send this actor's messages in, and the replies out, to `listener` until unsubscribed. */
  addTracer(listener: (event: TraceEvent) => void): () => void {
    const rare = this.#rare;
    (rare.tracers ??= new Set()).add(listener);
    this.gate |= GATE_TRACE;
    return () => {
      const tracers = rare.tracers;
      if (tracers === null || !tracers.delete(listener)) return;
      if (tracers.size === 0) {
        rare.tracers = null;
        this.gate &= ~GATE_TRACE;
      }
    };
  }

  #trace(event: TraceEvent): void {
    const tracers = this.#r?.tracers ?? null;
    if (tracers === null) return;
    for (const t of tracers) {
      try {
        t(event);
      } catch (e) {
        this.core.logger.error({ err: toError(e), actor: this.id }, 'trace listener threw');
      }
    }
  }

  #traceAsk(msg: CompiledMessage, input: unknown, promise: Promise<unknown>): void {
    const name = msg.name;
    this.#trace({ actor: this.id, at: Date.now(), dir: 'in', kind: 'ask', message: name, input });
    promise.then(
      (value) => this.#trace({ actor: this.id, at: Date.now(), dir: 'out', kind: 'reply', message: name, value }),
      (error: unknown) => this.#trace({ actor: this.id, at: Date.now(), dir: 'out', kind: 'error', message: name, error: toError(error) }),
    );
  }

  /** Why an ask cannot be queued now (the gate is not open), or null. */
  #refuseAsk(turn: ChainTurn | null): Error | null {
    if (this.status >= STOPPING) return new ActorStopped(this.id, this.#stopReason);
    if (this.core.draining && turn === null) return new ShuttingDown(this.core.name);
    if ((this.gate & GATE_ZOMBIE) !== 0 && turn !== null && turn.fenced && turn.owner === this) return new ActorStopped(this.id, 'restarting');
    if ((this.gate & GATE_DOWN) !== 0 && this.status === RESTARTING) return new ActorStopped(this.id, 'restarting');
    return null;
  }

  /** Why a tell cannot be queued now (the gate is not open), or null. */
  #refuseTell(): DeadLetterReason | null {
    if (this.status >= STOPPING) return 'stopped';
    const turn = currentTurn();
    if (this.core.draining && turn === null) return 'shutting-down';
    if ((this.gate & GATE_ZOMBIE) !== 0 && turn !== null && turn.fenced && turn.owner === this) return 'fenced';
    if ((this.gate & GATE_DOWN) !== 0 && this.status === RESTARTING) return 'restarting';
    return null;
  }

  /**
   * Full for a new message: at capacity, or senders already waiting. The message whose handler
   * is running now is still at the mailbox head and does not count.
   */
  #isFull(): boolean {
    const queued = this.mailbox.length - (this.inHandler ? 1 : 0);
    return queued >= this.opts.capacity || (this.waiters !== null && this.waiters.length > 0);
  }

  /** A tell met a full mailbox (or waiting senders): true when it became a dead letter. */
  #full(msg: CompiledMessage, input: unknown): boolean {
    if (!this.#isFull()) return false;
    if (this.opts.overflow !== 'drop-oldest') {
      this.core.counters.mailboxFull++;
      this.#deadLetter(msg.name, input, 'mailbox-full', false);
      return true;
    }
    this.#dropOldest();
    return false;
  }

  /** Queue a tell, waiting for room in a `wait` mailbox. Resolves once queued. */
  send(msg: CompiledMessage, input: unknown, options: AskOptions | undefined): Promise<void> {
    const core = this.core;
    if (options !== undefined) {
      const unknown = unknownKey(`send '${msg.name}' to '${this.id}'`, options, ASK_KEYS);
      if (unknown !== null) return Promise.reject(unknown);
    }
    if (this.gate !== 0) {
      const refused = this.#refuseAsk(currentTurn());
      if (refused !== null) return Promise.reject(refused);
    }
    const full = this.#isFull();
    if (!full || this.opts.overflow !== 'wait') {
      if (full && this.opts.overflow === 'reject') {
        core.counters.mailboxFull++;
        return Promise.reject(new MailboxFull(this.id, this.opts.capacity));
      }
      this.tell(msg, input);
      return Promise.resolve();
    }
    if (options !== undefined) {
      const refused = this.#checkOptions(msg, options);
      if (refused !== null) return Promise.reject(refused);
    }
    const timeoutMs = options?.timeoutMs ?? this.opts.askTimeoutMs;
    return new Promise<void>((resolve, reject) => {
      const w = new SendWaiter(msg, input, this, resolve, reject, timeoutMs);
      core.deadlines.add(w, timeoutMs);
      const signal = options?.signal;
      if (signal !== undefined) {
        const onAbort = () => {
          core.counters.cancelled++;
          w.settle(new Cancelled(this.id, msg.name, signal.reason));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        const settle = w.settle.bind(w);
        w.settle = (e) => {
          signal.removeEventListener('abort', onAbort);
          settle(e);
        };
      }
      this.waiters ??= new RingBuffer();
      this.waiters.push(w);
    });
  }

  /** What is wrong with an ask's or a send's options (a bad timeout or signal, or one already aborted), or null. */
  #checkOptions(msg: CompiledMessage, options: AskOptions): Error | null {
    const unknown = unknownKey(`ask '${msg.name}' to '${this.id}'`, options, ASK_KEYS);
    if (unknown !== null) return unknown;
    const { timeoutMs, signal } = options;
    if (timeoutMs !== undefined && (!(timeoutMs > 0) || !Number.isFinite(timeoutMs))) {
      return new InvalidArgument(`timeoutMs must be a positive finite number, got ${timeoutMs}`);
    }
    if (options.transfer !== undefined && !Array.isArray(options.transfer)) return new InvalidArgument('transfer must be an array of transferable objects');
    if (signal === undefined) return null;
    if (!(signal instanceof AbortSignal)) return new InvalidArgument('signal must be an AbortSignal');
    if (signal.aborted) {
      this.core.counters.cancelled++;
      return new Cancelled(this.id, msg.name, signal.reason);
    }
    return null;
  }

  #watchSignal(env: Envelope, signal: AbortSignal): void {
    const onAbort = () => {
      this.core.counters.cancelled++;
      env.failWith(new Cancelled(this.id, env.msg.name, signal.reason));
    };
    env.extra ??= { signal: null, onAbort: null, controller: null };
    env.extra.signal = signal;
    env.extra.onAbort = onAbort;
    signal.addEventListener('abort', onAbort, { once: true });
  }

  #dropOldest(): void {
    // While a handler runs synchronously its message is the head: drop the one behind it.
    const old = this.inHandler ? this.mailbox.takeSecond() : this.mailbox.take();
    if (old === undefined) return;
    this.#rare.dropped++;
    this.core.counters.dropped++;
    if (old.ask !== null && !old.ask.settled) old.ask.failWith(new MailboxFull(this.id, this.opts.capacity, true));
    this.#deadLetter(old.msg.name, old.input, 'dropped', old.ask !== null);
  }

  /** Move waiting senders into the mailbox while there is room. */
  #admit(): void {
    const waiters = this.waiters as RingBuffer<Waiting>;
    while (waiters.length > 0 && this.mailbox.length < this.opts.capacity) {
      const w = waiters.shift() as Waiting;
      if (w.settled) continue;
      if (w instanceof SendWaiter) {
        this.mailbox.push(w.msg, w.input, null);
        w.settle(undefined);
      } else {
        this.mailbox.push(w.msg, w.input, w);
      }
    }
  }

  #deadLetter(message: string, input: unknown, reason: DeadLetterReason, wasAsk: boolean): void {
    this.core.deadLetter({ actor: this.id, message, input, reason, wasAsk, at: this.core.clock.now() });
  }

  // ---------------------------------------------------------------- EnvelopeHost

  settled(env: Envelope): void {
    this.core.deadlines.done(env);
    if (env.extra !== null || env.deferred) this.#settledRare(env);
  }

  /** The rest of settling, for asks with a signal or a deferred reply. */
  #settledRare(env: Envelope): void {
    const extra = env.extra;
    if (extra !== null && extra.onAbort !== null) {
      (extra.signal as AbortSignal).removeEventListener('abort', extra.onAbort);
      extra.onAbort = null;
    }
    if (env.deferred) {
      this.#r?.deferred?.delete(env);
      // A reply owed after its turn was the last work of this actor: the drain may be done.
      if (this.core.draining) this.core.noteIdle();
    }
  }

  expired(env: Envelope): void {
    this.core.counters.timeouts++;
    env.failWith(new AskTimeout(this.id, env.msg.name, env.bucket?.lane.timeoutMs ?? 0));
  }

  late(env: Envelope): void {
    this.core.counters.lateReplies++;
    this.core.emit({ type: 'late-reply', actor: this.id, actorType: this.def.name, message: env.msg.name, at: this.core.clock.now() });
  }

  deliverDeferred(env: Envelope, value: unknown): boolean {
    if (env.settled) {
      this.late(env);
      return false;
    }
    return this.#reply(env, value, false);
  }

  failDeferred(env: Envelope, error: unknown): boolean {
    return env.failWith(isHoldfastError(error) ? error : toError(error));
  }

  // ---------------------------------------------------------------- turns

  runSome(budget: number): number {
    // This cell is the one running for the whole run of turns; `inHandler` says when one of its
    // handlers is on the stack (see currentTurn).
    const sync = syncState;
    const prev = sync.cell;
    sync.cell = this;
    try {
      return this.#runTurns(budget);
    } finally {
      sync.cell = prev;
    }
  }

  #runTurns(budget: number): number {
    let n = 0;
    const mailbox = this.mailbox;
    const observer = this.core.observer;
    const dispatcher = this.core.dispatcher;
    while (n < budget && !dispatcher.yieldRequested) {
      if (this.sys !== null) this.#runSystemMessages();
      if (this.busy || this.status !== RUNNING) break;
      // The message stays at the head of the mailbox while its handler runs (see syncState).
      const h = mailbox.headMsg() as BoundMessage | undefined;
      if (h === undefined) break;
      const ask = mailbox.headAsk();
      // An ask that timed out or was cancelled before its turn began is never run.
      if (ask?.settled) {
        mailbox.shift();
        if (this.waiters !== null && this.waiters.length > 0) this.#admit();
        continue;
      }
      // A turn's start is proof of progress: the steward watches turns + beats. The count is
      // stored when the loop ends: no sweep can run before that.
      n++;
      // The turn, inlined by hand: this loop is the hottest code in the system, and relying on
      // the JIT to inline four levels of calls leaves it over its inlining budget.
      const input = mailbox.headInput();
      const mode = h.mode;
      const ctx = mode === PLAIN || !h.usesCtx ? null : new TurnContext(this, h, ask);
      // Turn timing, for metrics: one turn in `every` (async turns always), and only with an observer.
      let t0 = 0;
      if (observer !== null && (mode === ASYNC || --observer.countdown <= 0)) {
        if (mode !== ASYNC) observer.countdown = observer.every;
        t0 = performance.now();
      }
      // An async turn is a link of the call chain from its start (AsyncLocalStorage carries it);
      // a sync tell gets one only if its handler asks someone (runningLetter makes it then).
      if (mode === ASYNC && ask === null) this.running = new Letter(h, input, this);
      this.inHandler = true;
      let result: unknown;
      try {
        result = mode === ASYNC ? this.#callAsync(h, input, ask ?? (this.running as Turn), ctx) : h.fn(this.state, input, ctx as TurnContext);
      } catch (e) {
        this.inHandler = false;
        if (t0 !== 0) (observer as ObserverState).observe(this.def.name, h.name, performance.now() - t0);
        const turn = ask ?? this.running ?? new Letter(h, input, this);
        this.running = null;
        mailbox.shift();
        if (this.waiters !== null && this.waiters.length > 0) this.#admit();
        this.#turnThrew(turn, e);
        continue;
      }
      this.inHandler = false;
      // The chain link made for this tell's turn, if any (asks are their own link).
      const link = this.running;
      if (link !== null) this.running = null;
      mailbox.shift();
      if (this.waiters !== null && this.waiters.length > 0) this.#admit();
      if (result !== null && typeof result === 'object') {
        if (typeof (result as PromiseLike<unknown>).then === 'function') {
          this.#awaitTurn(h, ask ?? link ?? new Letter(h, input, this), ctx, result as PromiseLike<unknown>);
          if (observer !== null) this.#rare.turnStart = t0 === 0 ? performance.now() : t0;
          continue;
        }
        // A tell's handler may replace the state (`become`); there is no reply.
        if (ask === null && isBecome(result)) this.state = result.state;
      }
      if (t0 !== 0) (observer as ObserverState).observe(this.def.name, h.name, performance.now() - t0);
      if (ask === null) {
        if (link !== null) link.done = true;
        continue;
      }
      // The common reply, here: a plain value, not deferred, no reply schema to check. Objects
      // (which may be `become`), deferred replies and checked replies go through turnReturned.
      if (!ask.deferred && (result === null || typeof result !== 'object') && (h.reply === undefined || !this.opts.validateReply)) {
        ask.done = true;
        ask.succeed(h.reply === undefined ? undefined : result);
        continue;
      }
      this.#turnReturned(ask, result);
    }
    this.turns += n;
    if (n > 0) this.lastTurnAt = this.core.wall.now;
    this.core.counters.turns += n;
    if (this.core.draining) this.core.noteIdle();
    return n;
  }

  /**
   * The turn whose handler is running synchronously: its ask (still at the mailbox head), or for
   * a tell a link made now (tells allocate nothing until a handler asks someone).
   */
  runningLetter(): Turn | null {
    if (!this.inHandler) return null;
    const mailbox = this.mailbox;
    const h = mailbox.headMsg();
    if (h === undefined) return null;
    const ask = mailbox.headAsk();
    if (ask !== null) return ask;
    this.running ??= new Letter(h, mailbox.headInput(), this);
    return this.running;
  }

  /** The ask whose handler is running synchronously, or null (a tell). */
  runningAsk(): Envelope | null {
    return this.inHandler ? this.mailbox.headAsk() : null;
  }

  // The closures of the async path live in their own methods: a closure in runSome would make V8
  // allocate a context for its locals on every call.
  #callAsync(h: BoundMessage, input: unknown, turn: Turn, ctx: TurnContext | null): unknown {
    return runAsync(turn, () => h.fn(this.state, input, ctx as TurnContext));
  }

  #awaitTurn(h: BoundMessage, env: Turn, ctx: TurnContext | null, result: PromiseLike<unknown>): void {
    // Learn it: later turns of this handler run under AsyncLocalStorage to keep the call chain.
    h.learnAsync();
    this.busy = true;
    // Only a turn that outlives this call can be fenced (stop, restart, abandon): track it.
    this.current = env;
    this.currentCtx = ctx;
    // The steward's sweep looks at actors in the middle of a turn only, from the turn's start.
    this.hbAt = this.core.clock.now();
    this.parent?.inTurn.add(this);
    result.then(
      (v) => this.#asyncTurnEnded(env, v, false),
      (e) => this.#asyncTurnEnded(env, e, true),
    );
  }

  #asyncTurnEnded(env: Turn, value: unknown, threw: boolean): void {
    // A fenced turn belongs to an incarnation that is gone: its outcome reaches no one.
    if (env.fenced) {
      const rare = this.#rare;
      if (--rare.zombies === 0) this.gate &= ~GATE_ZOMBIE;
      return;
    }
    this.busy = false;
    const observer = this.core.observer;
    if (observer !== null && this.#r !== null && this.#r.turnStart !== 0) {
      observer.observe(this.def.name, env.msg.name, performance.now() - this.#r.turnStart);
      this.#r.turnStart = 0;
    }
    if (threw) this.#turnThrew(env, value);
    else this.#turnReturned(env, value);
    if (this.ready) this.core.dispatcher.schedule(this);
    else if (this.core.draining) this.core.noteIdle();
  }

  #endTurn(env: Turn): void {
    env.done = true;
    if (this.current !== null) {
      this.current = null;
      this.currentCtx = null;
      this.parent?.inTurn.delete(this);
    }
  }

  #turnReturned(env: Turn, result: unknown): void {
    this.#endTurn(env);
    let reply = result;
    if (reply !== null && typeof reply === 'object' && isBecome(reply)) {
      this.state = reply.state;
      reply = reply.reply;
    }
    if (!env.isAsk || (env as Envelope).deferred) return;
    this.#reply(env as Envelope, reply, true);
  }

  /** Check (when enabled) and deliver a reply. A reply that fails its schema crashes the turn. */
  #reply(env: Envelope, value: unknown, inTurn: boolean): boolean {
    const schema = env.msg.reply;
    if (schema === undefined) return env.succeed(undefined);
    if (this.opts.validateReply) {
      const r = schema.safeParse(value);
      if (!r.success) {
        const err = new InvalidReply({ actor: this.id, message: env.msg.name, issues: r.error.issues });
        if (inTurn) {
          this.#crash(env, err, 'invalid-reply');
        } else {
          // A deferred reply comes after its turn: fail its caller, but do not restart the actor
          // in the middle of whatever turn is running now.
          env.failWith(err);
          this.#reportError(`deferred reply to '${env.msg.name}'`, err);
        }
        return false;
      }
    }
    return env.succeed(value);
  }

  #turnThrew(env: Turn, thrown: unknown): void {
    this.#endTurn(env);
    if (isHoldfastError(thrown, 'REJECTED')) {
      // A business refusal: the state is kept and the actor goes on.
      if (env instanceof Envelope) {
        if (!env.settled) env.failWith(thrown);
      } else {
        this.core.emit({
          type: 'error',
          actor: this.id,
          actorType: this.def.name,
          incarnation: this.incarnation,
          where: `tell '${env.msg.name}' rejected`,
          error: thrown,
          at: this.core.clock.now(),
        });
        this.log.warn({ message: env.msg.name, err: thrown }, 'tell rejected');
      }
      return;
    }
    this.#crash(env, toError(thrown), 'threw');
  }

  // ---------------------------------------------------------------- crash, restart, stop (the steward decides)

  /**
   * The incarnation failed: its steward decides at once (the decision goes into the caller's
   * error), the actor goes down so that nothing more runs on the broken state, and the steward
   * carries the decision out.
   */
  #crash(env: Turn | null, error: Error, reason: CrashReason): void {
    const parent = this.parent;
    const decision: RestartDecision = this.status >= Status.Stopping || parent === null ? 'stop' : parent.decide(this, 'crash');
    const crash = new ActorCrashed({ actor: this.id, message: env?.msg.name ?? null, reason, decision, incarnation: this.incarnation }, error);
    this.core.counters.crashes++;
    if (env instanceof Envelope && !env.settled) env.failWith(crash);
    this.core.emit({
      type: 'crashed',
      actor: this.id,
      actorType: this.def.name,
      incarnation: this.incarnation,
      reason,
      message: env?.msg.name ?? null,
      error,
      decision,
      at: this.core.clock.now(),
    });
    // The steward that decides logs the crash: one whose decisions are made elsewhere (a host's
    // side of an actor) leaves it to the stand-in's, which logs it with the real decision.
    if (parent?.delegate == null) this.log.error({ err: error, message: env?.msg.name ?? null, reason, decision }, 'actor crashed');
    if (this.status >= Status.Stopping) return;
    this.#down(crash);
    if (parent !== null) parent.act(this, decision, reason, crash);
    else void this.#stop('gave-up', crash);
  }

  #crashedOutsideTurn(error: Error, reason: CrashReason, ctx: TurnContext): void {
    ctx.fenced = true;
    this.#crash(null, error, reason);
  }

  /** The actor exits normally (`ctx.stop()`): its steward restarts it only if it is `permanent`. */
  #exit(): void {
    if (this.status !== Status.Running) return;
    const parent = this.parent;
    const decision: RestartDecision = parent === null ? 'stop' : parent.decide(this, 'normal');
    if (parent?.delegate == null) this.log.info({ decision }, 'actor exited');
    this.#down(new ActorStopped(this.id, 'normal'));
    if (parent !== null) parent.act(this, decision, 'normal', null);
    else void this.#stop('normal', null);
  }

  /**
   * Take the actor down: nothing more runs on this incarnation, the running turn (a hung one) is
   * fenced, and arriving messages are held or refused by the steward's policy until a restart.
   */
  #down(cause: Error): void {
    this.status = Status.Restarting;
    this.busy = true;
    this.#fenceCurrent(cause);
    if (this.parent?.opts.whileDown === 'refuse') this.gate |= GATE_DOWN;
  }

  /** @internal Spawned on an actor host (a worker pool): for summaries and for the host's own use. */
  get host(): ActorHost | null {
    return this.#r?.host ?? null;
  }
  set host(host: ActorHost | null) {
    if (host !== null || this.#r !== null) this.#rare.host = host;
  }

  /**
   * @internal A crash found outside a turn of this thread: the actor's host reports that the
   * incarnation failed (its handler threw on the host, or the host lost it). The steward decides
   * as for any crash; `reply`, when given, is the caller of the failed message. False when the
   * actor is not running (it is down or stopping already: nothing to decide).
   */
  crashFromOutside(reply: Envelope | null, error: Error, reason: CrashReason): boolean {
    if (this.status !== RUNNING) return false;
    this.#crash(reply, error, reason);
    return true;
  }

  /**
   * The steward's sweep found the running turn silent for `silentMs`: fail its caller with
   * `ACTOR_CRASHED` (reason `hung`), abort its signal, fence it, and restart.
   */
  hung(silentMs: number, timeoutMs: number): void {
    const env = this.current;
    if (env === null || this.status !== Status.Running) return;
    this.core.emit({
      type: 'hung',
      actor: this.id,
      actorType: this.def.name,
      incarnation: this.incarnation,
      message: env.msg.name,
      silentMs,
      timeoutMs,
      at: this.core.clock.now(),
    });
    const error = new Error(`no progress for ${Math.round(silentMs)} ms in '${env.msg.name}' (heartbeat timeout ${timeoutMs} ms)`);
    this.#crash(env, error, 'hung');
  }

  /** Cut off the running turn (if any): its caller gets `err`, its signal aborts, its outcome is dropped. */
  #fenceCurrent(err: Error): void {
    const env = this.current;
    if (env === null) return;
    const ctx = this.currentCtx;
    this.current = null;
    this.currentCtx = null;
    this.parent?.inTurn.delete(this);
    env.fenced = true;
    env.done = true;
    // It may go on running: from now on it is a zombie whose sends to this actor are refused.
    this.#rare.zombies++;
    this.gate |= GATE_ZOMBIE;
    // A reply forwarded to a host belongs to the actor, not to this turn: it is not failed.
    const kept = env instanceof Envelope && env.kept;
    if (!kept) {
      if (env instanceof Envelope && !env.settled) env.failWith(err);
      env.abortTurn(err);
    }
    ctx?.abandon(kept ? undefined : err);
  }

  /** End the current incarnation: cancel its timers, fail its deferred replies, run onStop. */
  async #endIncarnation(reason: StopReason, cause: Error | null): Promise<void> {
    if (this.current !== null) this.#fenceCurrent(new ActorStopped(this.id, reason, cause ?? undefined));
    if (!this.live) return;
    this.live = false;
    const rare = this.#r;
    if (rare?.timers) {
      for (const t of rare.timers) this.core.clock.clearTimeout(t);
      rare.timers = null;
    }
    if (rare?.deferred) {
      const pending = [...rare.deferred];
      rare.deferred = null;
      const err = cause ?? new ActorStopped(this.id, reason);
      for (const env of pending) {
        // Forwarded to a host: it outlives the incarnation (a final stop fails it).
        if (env.kept) (rare.deferred ??= new Set()).add(env);
        else env.failWith(err);
      }
    }
    const onStop = this.def.behaviour.onStop;
    if (onStop !== undefined) {
      const ctx = new TurnContext(this, null, null);
      try {
        const r = runHook(ctx, () => onStop.call(this.def.behaviour, this.state, ctx, reason), onStop);
        if (isThenable(r)) await this.#bounded(r, this.opts.stopTimeoutMs, 'onStop');
      } catch (e) {
        this.#reportError('onStop', toError(e));
      }
      ctx.fenced = true;
    }
    if (this.#r !== null) this.#r.log = null;
  }

  async #bounded(p: PromiseLike<unknown>, ms: number, what: string): Promise<void> {
    let timer: TimerHandle | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = this.core.clock.setTimeout(() => resolve('timeout'), ms);
    });
    try {
      const r = await Promise.race([Promise.resolve(p).then(() => 'ok' as const), timeout]);
      if (r === 'timeout') this.#reportError(what, new Error(`${what} of '${this.id}' did not finish within ${ms} ms; abandoned`));
    } catch (e) {
      this.#reportError(what, toError(e));
    } finally {
      if (timer !== undefined) this.core.clock.clearTimeout(timer);
    }
  }

  #reportError(where: string, error: Error): void {
    this.core.emit({ type: 'error', actor: this.id, actorType: this.def.name, incarnation: this.incarnation, where, error, at: this.core.clock.now() });
    this.log.error({ err: error, where }, `${where} failed`);
  }

  /** Supervised: end this incarnation and stay down (keeping id, ref and queued messages). */
  terminate(reason: StopReason, cause: Error | null): Promise<void> {
    if (this.status >= Status.Stopping) return Promise.resolve();
    if (this.status !== Status.Restarting) this.#down(cause ?? new ActorStopped(this.id, reason));
    const rare = this.#rare;
    if (rare.ending !== null) return rare.ending;
    if (!this.live) return Promise.resolve();
    const ending = this.#endIncarnation(reason, cause).finally(() => {
      rare.ending = null;
    });
    rare.ending = ending;
    return ending;
  }

  /** Supervised: start the next incarnation with fresh state from `init`. */
  reincarnate(): void {
    if (this.status !== Status.Restarting) return;
    this.incarnation++;
    const rare = this.#rare;
    rare.restarts++;
    this.core.counters.restarts++;
    try {
      this.state = (this.def.behaviour.init as (a: unknown) => unknown)(this.args);
    } catch (e) {
      this.#crash(null, toError(e), 'start-failed');
      return;
    }
    this.live = true;
    this.busy = false;
    this.status = Status.Starting;
    this.gate &= ~GATE_DOWN;
    this.core.emit({
      type: 'restarted',
      actor: this.id,
      actorType: this.def.name,
      incarnation: this.incarnation,
      restarts: this.restarts,
      at: this.core.clock.now(),
    });
    this.#startIncarnation();
  }

  /** Supervised: stop for good. */
  stopFor(reason: StopReason, cause: Error | null): Promise<void> {
    return this.#stop(reason, cause);
  }

  /** A restart asked for from outside (`system.restart`): not counted against any limit. */
  async #restart(): Promise<void> {
    await this.terminate('restarting', null);
    this.reincarnate();
  }

  /** Stop for good: fail what waits, run onStop, forget the id. */
  async #stop(reason: StopReason, cause: Error | null): Promise<void> {
    if (this.status >= Status.Stopping) return this.requestStop(reason);
    const wasDown = this.status === Status.Restarting;
    this.status = Status.Stopping;
    this.gate |= GATE_CLOSED;
    this.#rare.stopReason = reason;
    this.busy = true;
    const err = new ActorStopped(this.id, reason, cause ?? undefined);
    for (const m of this.mailbox.drain()) {
      if (m.ask !== null) {
        if (!m.ask.settled) m.ask.failWith(err);
      } else {
        this.#deadLetter(m.msg.name, m.input, 'stopped', false);
      }
    }
    if (this.waiters !== null) {
      for (const w of this.waiters.drain()) {
        if (w instanceof SendWaiter) w.settle(err);
        else if (!w.settled) w.failWith(err);
      }
    }
    if (wasDown && this.#r?.ending) await this.#r.ending;
    await this.#endIncarnation(reason, cause);
    const rare = this.#r;
    if (rare?.deferred) {
      const kept = rare.deferred;
      rare.deferred = null;
      for (const env of kept) env.failWith(err);
    }
    this.status = Status.Stopped;
    this.busy = false;
    this.parent?.remove(this);
    this.core.unregister(this, this.id);
    if (reason === 'gave-up') {
      this.core.emit({
        type: 'gave-up',
        actor: this.id,
        actorType: this.def.name,
        incarnation: this.incarnation,
        restarts: this.restarts,
        withinMs: this.opts.withinMs,
        at: this.core.clock.now(),
      });
    }
    this.core.emit({ type: 'stopped', actor: this.id, actorType: this.def.name, incarnation: this.incarnation, reason, at: this.core.clock.now() });
    const waiting = this.#r?.stopped ?? null;
    if (this.#r !== null) this.#r.stopped = null;
    if (waiting !== null) for (const done of waiting) done();
    if (this.sys !== null) this.#runSystemMessages();
    if (this.core.draining) this.core.noteIdle();
  }

  /** Refuse outside senders from now on (the actor stops, or the system drains). */
  closeGate(): void {
    this.gate |= GATE_CLOSED;
  }

  // ---------------------------------------------------------------- system messages (ahead of user messages)

  /**
   * Stop at the next turn boundary. Resolves once stopped (at once if stopped already). A turn
   * that is still running `stopTimeoutMs` later is abandoned: fenced, its caller failed with
   * `ACTOR_STOPPED`, so that a stop never waits forever on a turn that does not end.
   */
  requestStop(reason: StopReason): Promise<void> {
    if (this.status === Status.Stopped) return Promise.resolve();
    if (this.status === Status.Stopping) return new Promise<void>((done) => (this.#rare.stopped ??= []).push(done));
    const stopped = new Promise<void>((done) => this.#system({ kind: 'stop', reason, done }));
    const running = this.current;
    if (running !== null) {
      const timer = this.core.clock.setTimeout(() => {
        if (this.current !== running || this.status >= Status.Stopping) return;
        this.#reportError('stop', new Error(`turn '${running.msg.name}' of '${this.id}' did not end within ${this.opts.stopTimeoutMs} ms; abandoned`));
        this.#fenceCurrent(new ActorStopped(this.id, reason));
        this.busy = false;
        this.#runSystemMessages();
      }, this.opts.stopTimeoutMs);
      void stopped.then(() => this.core.clock.clearTimeout(timer));
    }
    return stopped;
  }

  /** Restart at the next turn boundary, as after a crash but without counting against the intensity. */
  requestRestart(): Promise<void> {
    if (this.status >= Status.Stopping) return Promise.reject(new ActorStopped(this.id, this.#stopReason));
    return new Promise<void>((done) => this.#system({ kind: 'restart', done }));
  }

  /** The state as `inspect` shows it, read between turns. */
  requestInspect(): Promise<ActorSnapshot> {
    if (!this.busy && this.status !== Status.Stopping) return Promise.resolve(this.snapshot());
    return new Promise<ActorSnapshot>((done) => this.#system({ kind: 'inspect', done }));
  }

  /** @internal used by TurnContext: end this actor normally after the current turn. */
  requestExit(): void {
    this.#system({ kind: 'exit' });
  }

  #system(m: SystemMessage): void {
    (this.sys ??= []).push(m);
    if (!this.busy) this.core.dispatcher.schedule(this);
  }

  #runSystemMessages(): void {
    while (this.sys !== null && (!this.busy || this.status === Status.Restarting)) {
      const m = this.sys.shift() as SystemMessage;
      if (this.sys.length === 0) this.sys = null;
      switch (m.kind) {
        case 'inspect':
          m.done(this.snapshot());
          break;
        case 'stop':
          if (this.status === Status.Stopped) m.done();
          else {
            (this.#rare.stopped ??= []).push(m.done);
            void this.#stop(m.reason, null);
          }
          break;
        case 'restart':
          // Down already (its steward restarts it) or gone: nothing to do.
          if (this.status >= Status.Restarting) m.done();
          else void this.#restart().then(m.done);
          break;
        case 'end':
          void this.terminate(m.reason, null).then(m.done);
          break;
        case 'exit':
          this.#exit();
          break;
        default:
          m satisfies never;
      }
    }
  }

  /**
   * @internal End the incarnation at the next turn boundary (at once when no turn runs or the
   * actor is down), keeping the mailbox: how an actor host carries out a stop or restart asked
   * for from outside, which lets the running turn finish.
   */
  endAtBoundary(reason: StopReason): Promise<void> {
    if (this.status !== RUNNING || !this.busy) return this.terminate(reason, null);
    return new Promise<void>((done) => this.#system({ kind: 'end', reason, done }));
  }

  /** Give up on a turn that does not end (shutdown past its deadline): fence it and stop. */
  abandon(): Promise<void> {
    if (this.status >= Status.Stopping) return this.requestStop('shutdown');
    this.#fenceCurrent(new ActorStopped(this.id, 'shutdown'));
    this.busy = false;
    return this.#stop('shutdown', null);
  }

  // ---------------------------------------------------------------- timers, deferred replies

  /** @internal used by TurnContext. */
  trackDeferred(env: Envelope): void {
    (this.#rare.deferred ??= new Set()).add(env);
  }

  /** @internal used by TurnContext: a timer that tells this incarnation `msg`. */
  schedule(msg: CompiledMessage, input: unknown, when: ScheduleWhen, incarnation: number): () => void {
    checkKeys(`schedule '${msg.name}'`, when, SCHEDULE_KEYS);
    const afterMs = 'everyMs' in when ? (when.afterMs ?? when.everyMs) : when.afterMs;
    const everyMs = 'everyMs' in when ? when.everyMs : undefined;
    if (!(afterMs >= 0) || !Number.isFinite(afterMs) || (everyMs !== undefined && (!(everyMs > 0) || !Number.isFinite(everyMs)))) {
      throw new InvalidArgument(`schedule: afterMs must be >= 0 and everyMs > 0, got ${JSON.stringify(when)}`);
    }
    if (this.opts.validateInput) {
      const r = msg.input.safeParse(input);
      if (!r.success) throw new InvalidMessage({ actor: this.id, message: msg.name, issues: r.error.issues });
      input = r.data;
    }
    if (incarnation !== this.incarnation || this.status >= Status.Stopping) return () => {};
    const clock = this.core.clock;
    const rare = this.#rare;
    const timers = (rare.timers ??= new Set());
    let handle: TimerHandle;
    let cancelled = false;
    const fire = () => {
      timers.delete(handle);
      if (cancelled || incarnation !== this.incarnation) return;
      if (this.core.draining) {
        this.#deadLetter(msg.name, input, 'shutting-down', false);
        return;
      }
      this.tell(msg, input);
      if (everyMs !== undefined && !cancelled && rare.timers === timers) {
        handle = clock.setTimeout(fire, everyMs);
        timers.add(handle);
      }
    };
    handle = clock.setTimeout(fire, afterMs);
    timers.add(handle);
    return () => {
      if (cancelled) return;
      cancelled = true;
      timers.delete(handle);
      clock.clearTimeout(handle);
    };
  }

  // ---------------------------------------------------------------- inspection

  summary(): ActorSummary {
    return {
      id: this.id,
      type: this.def.name,
      steward: this.parent?.id ?? 'root',
      host: this.#r?.host ? (this.#r.host.describe?.(this.id) ?? this.#r.host.name) : 'main',
      lastTurnAt: this.lastTurnAt === 0 ? null : this.lastTurnAt,
      status: this.statusName,
      mailbox: this.mailbox.length,
      waiting: this.waiters?.length ?? 0,
      capacity: this.opts.capacity,
      overflow: this.opts.overflow,
      turns: this.turns,
      restarts: this.restarts,
      incarnation: this.incarnation,
      busy: this.busy,
      deferred: this.#r?.deferred?.size ?? 0,
      dropped: this.dropped,
    };
  }

  snapshot(): ActorSnapshot {
    const inspect = this.def.behaviour.inspect;
    let state: unknown;
    try {
      state = inspect === undefined ? toJSONSafe(this.state) : toJSONSafe(inspect.call(this.def.behaviour, this.state));
    } catch (e) {
      state = { error: `inspect failed: ${toError(e).message}` };
    }
    return { ...this.summary(), state, history: [...(this.#r?.record?.history ?? [])] };
  }

  /** This actor as a node of the supervision tree. */
  treeEntry(): ChildActorSnapshot {
    return {
      kind: 'actor',
      id: this.id,
      type: this.def.name,
      status: this.statusName,
      restart: this.opts.restart,
      incarnation: this.incarnation,
      restarts: this.restarts,
      history: [...(this.#r?.record?.history ?? [])],
    };
  }

  /** True when nothing is queued, running or owed (for the drain). */
  get quiet(): boolean {
    return (
      this.status === Status.Stopped || (!this.busy && this.mailbox.length === 0 && (this.waiters?.length ?? 0) === 0 && (this.#r?.deferred?.size ?? 0) === 0)
    );
  }
}

/** Run a hook as part of its own turn, so that the asks it makes count as in-flight work. */
function runHook<R>(ctx: TurnContext, fn: () => R, hook: unknown): R {
  const prev = enterSync(ctx);
  try {
    return hook instanceof AsyncFunction ? runAsync(ctx, fn) : fn();
  } finally {
    leaveSync(prev);
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as PromiseLike<unknown>).then === 'function';
}

export type { ChainTurn };
