// The owner loop of one actor: the data it owns, and an index of what can be done to it. Each
// operation lives in the chapter that owns its concern:
//
//   Cell.ts            the fields, and the two hottest entry points (ask, tell) inlined here
//   handlers.ts        an actor type's handlers bound to its messages (how a turn calls them)
//   admission.ts       who may queue what: gates, mailbox bounds, overflow, waiting senders
//   turns.ts           the turn loop: one message at a time, sync and async handlers
//   replies.ts         settling reply channels: replies, checks, deferred replies, late ones
//   lifecycle.ts       start, crash, exit, restart and stop (the steward decides)
//   systemMessages.ts  stop, restart, inspect and exit, run ahead of user messages
//   timers.ts          ctx.schedule()
//   trace.ts           the message trace (the debug REPL)
//   snapshot.ts        what inspection shows of an actor
//   durable.ts         a durable actor's turns, and the output gate (what its turns send waits for their commit)
//   durableSlot.ts     a durable actor's part of its cell: revision, dirtiness, held outputs, failed commits
//   durableWake.ts     waking a durable actor from the store (load, migrate, check) and sending to one asleep
//   reminders.ts       ctx.remind() and ctx.cancelReminder()
//
// An ask's path: ActorRef.ask → Cell.ask (queue its reply channel) → Dispatcher → turns.runTurns
// (call the handler) → the reply channel settles (ReplyChannel.succeed / replies.sendReply) →
// the caller's promise.
import type { ActorHost } from '../../ActorHost.js';
import type { ActorRef } from '../../ActorRef.js';
import type { ActorDefinition, ScheduleWhen } from '../../defineActor.js';
import type { CompiledMessage } from '../../defineProtocol.js';
import type { CrashReason, StopReason } from '../../errors.js';
import type { ActorSnapshot, ActorSummary, ChildActorSnapshot, StatusName, TraceEvent } from '../../inspection.js';
import type { Logger } from '../../Logger.js';
import type { AskOptions, ResolvedActorOptions } from '../../options.js';
import { currentTurn as currentTurn_, maybeInTurn as maybeInTurn_, outputGate as outputGate_, type RunningCell, type Turn } from '../callChain.js';
import type { Runnable } from '../Dispatcher.js';
import type { HandlerContext } from '../HandlerContext.js';
import { Mailbox } from '../Mailbox.js';
import { promiseFor as promiseFor_, ReplyChannel as ReplyChannel_, type ReplyChannelOwner, type TellTurn } from '../ReplyChannel.js';
import type { RingBuffer } from '../RingBuffer.js';
import type { StewardNode } from '../StewardNode.js';
import { CELL, ChildRecord, type Supervised } from '../Supervised.js';
import type { SystemCore } from '../SystemCore.js';
import { askSlow as askSlow_, sendWaiting, tellSlow as tellSlow_, type Waiting } from './admission.js';
import type { CellType } from './CellType.js';
import type { DurableSlot } from './durableSlot.js';
import type { BoundTable } from './handlers.js';
import { abandonCell, closeGate, crashFromOutside, onHung, startCell, startNextIncarnation, stopFor, terminateIncarnation } from './lifecycle.js';
import {
  BUSY as BUSY_,
  IN_HANDLER as IN_HANDLER_,
  LIVE as LIVE_,
  type Rare,
  RUNNING as RUNNING_,
  rareOf,
  SCHEDULED as SCHEDULED_,
  STATUS_NAMES,
  STOPPED,
  type Status,
  type SystemMessage,
} from './parts.js';
import { deliverDeferred, failDeferred, onExpired, onLate, onSettled, trackDeferred } from './replies.js';
import { isQuiet, snapshotOf, summaryOf, treeEntryOf } from './snapshot.js';
import { endAtBoundary, requestExit, requestInspect, requestRestart, requestStop } from './systemMessages.js';
import { scheduleTimer } from './timers.js';
import { addTracer } from './trace.js';
import { runningAsk, runningTurn, runSome } from './turns.js';

// Read on every send or turn through module constants, not the imports themselves: an imported
// binding is live, and optimized code loads it and checks that it is initialized at every read;
// a module constant the JIT folds into the code (about 1 ns a turn, 3 ns a validated send). Each
// comes from a module outside any import cycle with this one, or is a function (initialized
// before any module runs), so it is set when this module runs.
const currentTurn = currentTurn_;
const maybeInTurn = maybeInTurn_;
const outputGate = outputGate_;
const promiseFor = promiseFor_;
const ReplyChannel = ReplyChannel_;
type ReplyChannel = ReplyChannel_;
const askSlow = askSlow_;
const tellSlow = tellSlow_;
const BUSY = BUSY_;
const IN_HANDLER = IN_HANDLER_;
const LIVE = LIVE_;
const RUNNING = RUNNING_;
const SCHEDULED = SCHEDULED_;

/**
 * The owner loop of one actor: its mailbox, its state, and the turn now running. Persists
 * across restarts (the ref and id stay; the incarnation changes).
 */
export class Cell extends Mailbox implements Runnable, ReplyChannelOwner, RunningCell, Supervised {
  declare readonly id: string;
  /** Its place in the order of spawns (set by the system's registry of ids). */
  declare seq: number;
  /** What it shares with the other actors of its type (see core, def, opts, table). */
  declare readonly type: CellType;
  declare readonly args: unknown;
  declare ref: ActorRef;
  /** Its steward (set when added to one). */
  declare parent: StewardNode | null;
  /** Its neighbours among its steward's children (see Children). */
  declare prevSibling: Supervised | null;
  declare nextSibling: Supervised | null;
  declare state: unknown;
  declare status: Status;
  declare incarnation: number;
  /**
   * The `ctx` of this incarnation's handlers (one per incarnation, made when it starts, fenced
   * when it ends), or null when no handler of the type takes one (see takesContext).
   */
  declare ctx: HandlerContext | null;
  /**
   * Its yes/no states as bits (SCHEDULED, BUSY, IN_HANDLER, LIVE; read through the properties of
   * those names): one field, not four, on every actor, and a send tests two of them at once.
   */
  declare flags: number;
  /**
   * 0 while the actor takes messages from anyone; not 0 once it stops, the system drains, it is
   * down, a fenced turn still runs, or it is traced (see the GATE_ bits). One field to test on
   * every send, instead of the status and the system's state.
   */
  declare gate: number;
  /** The message whose turn is running after its handler returned (an async handler awaiting). */
  declare current: ReplyChannel | TellTurn | null;
  /** The call-chain link of the tell whose handler runs synchronously, once it asked someone. */
  declare running: TellTurn | null;
  declare turns: number;
  /**
   * The last proof of progress of the turn in flight (its start, or its last `ctx.heartbeat()`),
   * on the system's clock: the steward's sweep compares it with the hang timeout. Stamped only
   * for turns that outlive their call (an async turn), so a synchronous turn pays nothing.
   */
  declare hbAt: number;
  /** When the last run of turns was, in `core.wall` time (ms since its base, ±250 ms), or 0. */
  declare lastTurnAt: number;
  /** What most actors never need, made on first use (an idle actor stays small). */
  declare rare: Rare | null;

  constructor(type: CellType, id: string, args: unknown) {
    // The cell is its own mailbox (see `mailbox`).
    super();
    this.type = type;
    this.id = id;
    this.args = args;
    this.seq = 0;
    // Assigned here, not by field initializers: V8 runs those as a function of their own at every
    // construction, and a spawn makes one cell. (ref, parent and ctx are set by the spawn.)
    this.ref = undefined as unknown as ActorRef;
    this.parent = null;
    this.prevSibling = null;
    this.nextSibling = null;
    this.ctx = null;
    this.state = undefined;
    this.status = 0;
    this.incarnation = 1;
    this.flags = 0;
    this.gate = 0;
    this.current = null;
    this.running = null;
    this.turns = 0;
    this.hbAt = 0;
    this.lastTurnAt = 0;
    this.rare = null;
  }

  /** In the dispatcher's ready queue. */
  get scheduled(): boolean {
    return (this.flags & SCHEDULED) !== 0;
  }
  set scheduled(v: boolean) {
    this.flags = v ? this.flags | SCHEDULED : this.flags & ~SCHEDULED;
  }
  /** A turn (async), a hook or a restart is in progress: nothing else runs. */
  get busy(): boolean {
    return (this.flags & BUSY) !== 0;
  }
  set busy(v: boolean) {
    this.flags = v ? this.flags | BUSY : this.flags & ~BUSY;
  }
  /**
   * A handler of this actor is running synchronously now (its message is the mailbox head).
   * A bit, not a pointer in `syncState`: storing a small integer needs no GC write barrier, and
   * this is two stores per turn.
   */
  get inHandler(): boolean {
    return (this.flags & IN_HANDLER) !== 0;
  }
  set inHandler(v: boolean) {
    this.flags = v ? this.flags | IN_HANDLER : this.flags & ~IN_HANDLER;
  }
  /** The current incarnation's state exists and its onStop is owed. */
  get live(): boolean {
    return (this.flags & LIVE) !== 0;
  }
  set live(v: boolean) {
    this.flags = v ? this.flags | LIVE : this.flags & ~LIVE;
  }

  /** Its system's core. */
  get core(): SystemCore {
    return this.type.core;
  }
  get def(): ActorDefinition {
    return this.type.def;
  }
  get opts(): ResolvedActorOptions {
    return this.type.opts;
  }
  /** Message name → message bound to this type's handler (read on every send). */
  get table(): BoundTable {
    return this.type.table;
  }

  /**
   * Senders waiting for room (`overflow: 'wait'`), oldest first. Kept with the rare parts: read on
   * every send, it costs the same one load (of `rare`) for an actor that has none.
   */
  get waiters(): RingBuffer<Waiting> | null {
    return this.rare === null ? null : this.rare.waiters;
  }
  set waiters(w: RingBuffer<Waiting> | null) {
    if (w !== null || this.rare !== null) rareOf(this).waiters = w;
  }

  /**
   * System messages waiting for the next turn boundary. Kept with the rare parts: a run of turns
   * then tests one field (`rare`) for them and for waiting senders.
   */
  get sys(): SystemMessage[] | null {
    return this.rare === null ? null : this.rare.sys;
  }
  set sys(m: SystemMessage[] | null) {
    if (m !== null || this.rare !== null) rareOf(this).sys = m;
  }

  /** A durable actor's revision, dirtiness and held outputs (durable.ts); null for the rest. Kept with the rare parts. */
  get durable(): DurableSlot | null {
    return this.rare === null ? null : this.rare.durable;
  }
  set durable(d: DurableSlot | null) {
    if (d !== null || this.rare !== null) rareOf(this).durable = d;
  }

  /**
   * The actor's mailbox: the cell itself. Its ring's fields are the cell's own, so that an idle
   * actor carries no mailbox object, and every send and turn reaches the ring in one load less.
   */
  get mailbox(): Mailbox {
    return this;
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
    return this.status === STOPPED;
  }
  get record(): ChildRecord {
    const rare = rareOf(this);
    rare.record ??= new ChildRecord();
    return rare.record;
  }

  /** Why it stopped (once stopping). */
  get stopReason(): StopReason {
    return this.rare?.stopReason ?? 'stopped';
  }

  /** Restarts since spawn. */
  get restarts(): number {
    return this.rare?.restarts ?? 0;
  }

  /** Messages dropped by `drop-oldest`. */
  get dropped(): number {
    return this.rare?.dropped ?? 0;
  }

  /** The logger bound to this incarnation. */
  get log(): Logger {
    const rare = rareOf(this);
    rare.log ??= this.core.logger.child({ actor: this.id, type: this.def.name, incarnation: this.incarnation });
    return rare.log;
  }

  /** The actor host it was spawned on (a worker pool), or null: for summaries and the host's own use. */
  get host(): ActorHost | null {
    return this.rare?.host ?? null;
  }
  set host(host: ActorHost | null) {
    if (host !== null || this.rare !== null) rareOf(this).host = host;
  }

  // ---------------------------------------------------------------- enqueue (the hot path; admission.ts has the rest)

  /** Queue an ask (the input is already validated). Never throws. */
  ask(msg: CompiledMessage, input: unknown, options: AskOptions | undefined): Promise<unknown> {
    const turn = maybeInTurn() ? currentTurn() : null;
    // The common case (from outside any actor, no options, an open gate, room) in as little code
    // as possible, so that the JIT inlines it into the caller; everything else takes askSlow.
    if (options !== undefined || turn !== null || this.gate !== 0 || this.mailbox.length >= this.opts.capacity || this.waiters !== null) {
      return askSlow(this, msg, input, options, turn);
    }
    const core = this.core;
    core.counters.asks++;
    const ask = new ReplyChannel(msg, input, this, null);
    const promise = promiseFor(ask);
    core.deadlines.add(ask, this.opts.askTimeoutMs);
    this.mailbox.push(msg, input, ask);
    if ((this.flags & (SCHEDULED | BUSY)) === 0) core.dispatcher.schedule(this);
    return promise;
  }

  /** Queue a tell (the input is already validated). Never throws; failures become dead letters. */
  tell(msg: CompiledMessage, input: unknown): void {
    // The common case in as little code as possible, so that the JIT inlines it into every caller.
    // Fields, not getters, where it can: what this inlines counts against the caller's inlining
    // budget, and a tell sent from a handler must still fit.
    const rare = this.rare;
    if (this.gate !== 0 || this.length >= this.type.opts.capacity || (rare !== null && rare.waiters !== null) || outputGate.turns !== 0) {
      tellSlow(this, msg, input);
      return;
    }
    this.push(msg, input, null);
    if ((this.flags & (SCHEDULED | BUSY)) === 0) this.core.dispatcher.schedule(this);
  }

  /** Queue a tell, waiting for room in a `wait` mailbox. Resolves once queued. */
  send(msg: CompiledMessage, input: unknown, options: AskOptions | undefined): Promise<void> {
    return sendWaiting(this, msg, input, options);
  }

  // ---------------------------------------------------------------- turns (turns.ts)

  runSome(budget: number): number {
    return runSome(this, budget);
  }

  /** The turn whose handler is running synchronously now, or null. */
  runningTurn(): Turn | null {
    return runningTurn(this);
  }

  /** The ask whose handler is running synchronously, or null (a tell). */
  runningAsk(): ReplyChannel | null {
    return runningAsk(this);
  }

  // ---------------------------------------------------------------- reply channels (replies.ts)

  settled(ask: ReplyChannel): void {
    onSettled(this, ask);
  }
  expired(ask: ReplyChannel): void {
    onExpired(this, ask);
  }
  late(ask: ReplyChannel): void {
    onLate(this, ask);
  }
  deliverDeferred(ask: ReplyChannel, value: unknown): boolean {
    return deliverDeferred(this, ask, value);
  }
  failDeferred(ask: ReplyChannel, error: unknown): boolean {
    return failDeferred(this, ask, error);
  }
  /** A reply channel taken out of its turn (`ctx.defer()`): it must settle before the actor is quiet. */
  trackDeferred(ask: ReplyChannel): void {
    trackDeferred(this, ask);
  }

  // ---------------------------------------------------------------- lifecycle (lifecycle.ts, systemMessages.ts)

  /** Build the first incarnation. Throws (an `ACTOR_CRASHED`) when `init` throws. */
  start(): void {
    startCell(this);
  }
  /** Supervised: end this incarnation and stay down (keeping id, ref and queued messages). */
  terminate(reason: StopReason, cause: Error | null): Promise<void> {
    return terminateIncarnation(this, reason, cause);
  }
  /** Supervised: start the next incarnation with fresh state from `init`. */
  reincarnate(): void {
    startNextIncarnation(this);
  }
  /** Supervised: stop for good. */
  stopFor(reason: StopReason, cause: Error | null): Promise<void> {
    return stopFor(this, reason, cause);
  }
  /** The steward's sweep found the running turn silent for `silentMs`. */
  hung(silentMs: number, timeoutMs: number): void {
    onHung(this, silentMs, timeoutMs);
  }
  /** A crash found outside a turn of this thread (reported by the actor's host). */
  crashFromOutside(reply: ReplyChannel | null, error: Error, reason: CrashReason): boolean {
    return crashFromOutside(this, reply, error, reason);
  }
  /** Refuse outside senders from now on (the actor stops, or the system drains). */
  closeGate(): void {
    closeGate(this);
  }
  /** Give up on a turn that does not end (shutdown past its deadline): fence it and stop. */
  abandon(): Promise<void> {
    return abandonCell(this);
  }
  requestStop(reason: StopReason): Promise<void> {
    return requestStop(this, reason);
  }
  requestRestart(): Promise<void> {
    return requestRestart(this);
  }
  requestInspect(): Promise<ActorSnapshot> {
    return requestInspect(this);
  }
  requestExit(): void {
    requestExit(this);
  }
  endAtBoundary(reason: StopReason): Promise<void> {
    return endAtBoundary(this, reason);
  }

  // ---------------------------------------------------------------- timers, trace, inspection

  /** A timer that tells this incarnation `msg` (`ctx.schedule`). */
  schedule(msg: CompiledMessage, input: unknown, when: ScheduleWhen, incarnation: number): () => void {
    return scheduleTimer(this, msg, input, when, incarnation);
  }
  /** Send this actor's messages in, and the replies out, to `listener` until unsubscribed. */
  addTracer(listener: (event: TraceEvent) => void): () => void {
    return addTracer(this, listener);
  }
  summary(): ActorSummary {
    return summaryOf(this);
  }
  snapshot(): ActorSnapshot {
    return snapshotOf(this);
  }
  /** This actor as a node of the supervision tree. */
  treeEntry(): ChildActorSnapshot {
    return treeEntryOf(this);
  }
  /** True when nothing is queued, running or owed (for the drain). */
  get quiet(): boolean {
    return isQuiet(this);
  }
}
