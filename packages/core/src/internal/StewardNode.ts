import type { TimerHandle } from '../Clock.js';
import type { RestartDecision, StopReason } from '../errors.js';
import type { RestartCause, RestartRecord } from '../events.js';
import type { Exit, StewardDelegate } from '../host.js';
import type { StewardSnapshot, StewardStatusName } from '../inspection.js';
import { type BackoffOptions, defaultSweepMs, type RestartType, type Strategy, type WhileDown } from '../options.js';
import { backoffDelay } from './backoff.js';
import { Children } from './Children.js';
import type { Cell } from './cell/Cell.js';
import { RestartWindow } from './RestartWindow.js';
import { CELL, ChildRecord, STEWARD, type Supervised } from './Supervised.js';
import type { SystemCore } from './SystemCore.js';

const RUNNING = 0;
const DOWN = 1;
const STOPPING = 2;
const STOPPED = 3;
const STATUS_NAMES: readonly StewardStatusName[] = ['running', 'restarting', 'stopping', 'stopped'];

/** A steward's options, resolved. */
export interface ResolvedStewardOptions {
  readonly strategy: Strategy;
  readonly maxRestarts: number;
  readonly withinMs: number;
  readonly backoff: BackoffOptions | null;
  readonly hangTimeoutMs: number;
  readonly sweepMs: number;
  readonly whileDown: WhileDown;
  readonly restart: RestartType;
}

/** What a child's failure was, for the decision and the history. */

/**
 * A steward: supervises its children (actors and stewards) in start order, restarts them by its
 * strategy within its restart limit, escalates to its parent past it, and sweeps its actors for
 * hung turns with one timer.
 *
 * Supervisory work (restarts, escalations) runs one piece at a time, like a turn: a failure
 * reported while a group restart is in progress is handled after it.
 */
export class StewardNode implements Supervised {
  readonly core: SystemCore;
  readonly id: string;
  readonly opts: ResolvedStewardOptions;
  parent: StewardNode | null;
  readonly record = new ChildRecord();
  /** In start order. The children themselves (not their names: an actor and a steward may share a name). */
  readonly children = new Children();
  prevSibling: Supervised | null = null;
  nextSibling: Supervised | null = null;
  readonly window: RestartWindow;
  /** Its actors in the middle of an async turn: all the sweep needs to look at. */
  readonly inTurn = new Set<Cell>();
  incarnation = 1;
  /** Times this steward was restarted by its parent. */
  restarts = 0;
  status: number = RUNNING;
  /** Bumped whenever the steward ends an incarnation or stops: pending work of an older epoch is void. */
  #epoch = 0;
  #ops: Promise<void> = Promise.resolve();
  #sweepTimer: TimerHandle | null = null;
  /**
   * The sweep period: the steward's own, shortened to a tenth of the shortest hang timeout any
   * of its actors has of its own, so that every hang is found within its timeout plus one sweep.
   */
  #sweepMs: number;
  #cells = 0;
  #nextToken = 0;
  /** Children waiting for a delayed restart, with the token of the restart that will start them. */
  readonly #pending = new Map<Supervised, number>();
  readonly #timers = new Set<TimerHandle>();
  #ending: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  /** When set, failures are reported to it instead of decided here. */
  delegate: StewardDelegate | null = null;

  constructor(core: SystemCore, id: string, parent: StewardNode | null, opts: ResolvedStewardOptions) {
    this.core = core;
    this.id = id;
    this.parent = parent;
    this.opts = opts;
    this.window = new RestartWindow(opts.maxRestarts, opts.withinMs);
    this.#sweepMs = opts.sweepMs;
  }

  /** How often this steward sweeps its actors for hung turns now. */
  get sweepMs(): number {
    return this.#sweepMs;
  }

  get kind(): typeof STEWARD {
    return STEWARD;
  }
  get typeName(): string {
    return 'steward';
  }
  get restartType(): RestartType {
    return this.opts.restart;
  }
  get gone(): boolean {
    return this.status === STOPPED;
  }
  get running(): boolean {
    return this.status === RUNNING;
  }
  get statusName(): StewardStatusName {
    return STATUS_NAMES[this.status] as StewardStatusName;
  }
  /** Names from the root down, joined by `/`. */
  get path(): string {
    return this.parent === null ? this.id : `${this.parent.path}/${this.id}`;
  }

  // ---------------------------------------------------------------- children

  /** Add a child at the end of the start order (the caller has started it). */
  add(child: Supervised): void {
    this.children.add(child);
    child.parent = this;
    if (child.kind === CELL) {
      this.#cells++;
      const own = (child as Cell).opts.hangTimeoutMs;
      if (own !== undefined && defaultSweepMs(own) < this.#sweepMs) {
        this.#sweepMs = defaultSweepMs(own);
        // A sweep armed at the longer period would come too late for this child.
        if (this.#sweepTimer !== null) {
          this.core.clock.clearTimeout(this.#sweepTimer);
          this.#sweepTimer = null;
        }
      }
      this.#armSweep();
    }
  }

  /** Forget a child that stopped for good. */
  remove(child: Supervised): void {
    if (!this.children.delete(child)) return;
    this.#pending.delete(child);
    if (child.kind === CELL) {
      this.#cells--;
      this.inTurn.delete(child as Cell);
    }
  }

  // ---------------------------------------------------------------- failures

  /**
   * Decide, at once, what happens after `child` failed or exited: the decision goes into the
   * caller's `ACTOR_CRASHED` error. Counts the restart against the limit when it is one.
   */
  decide(child: Supervised, exit: Exit): RestartDecision {
    if (this.delegate !== null) return this.delegate.decide(child, exit);
    // Down (restarting or escalating): the child stays down and comes back with this steward.
    if (this.status === DOWN) return exit === 'normal' && child.restartType !== 'permanent' ? 'stop' : 'restart';
    if (this.status !== RUNNING) return 'stop';
    const type = child.restartType;
    if (type === 'temporary' || (type === 'transient' && exit === 'normal')) return 'stop';
    const now = this.core.clock.now();
    if (this.parent === null && child.kind === CELL) {
      // An actor spawned with system.spawn: a limit of its own, so one flapping actor never
      // takes the rest down. Past it the actor is stopped (gave-up).
      const { maxRestarts, withinMs } = (child as Cell).opts;
      if (child.record.prune(now, withinMs) >= maxRestarts) return 'stop';
      child.record.times.push(now);
      return 'restart';
    }
    child.record.prune(now, this.opts.withinMs);
    child.record.times.push(now);
    return this.window.admit(now) ? 'restart' : 'escalate';
  }

  /** Carry out a decision made by {@link decide}. `child` is down already (or exited). */
  act(child: Supervised, decision: RestartDecision, reason: RestartCause, cause: Error | null): void {
    if (this.delegate !== null) {
      this.delegate.act(child, decision, reason, cause);
      return;
    }
    const epoch = this.#epoch;
    const at = this.core.clock.now();
    this.#enqueue(() => this.#handle(child, decision, reason, cause, epoch, at));
  }

  /** A child steward gave up and hands its failure up: decide and act as for a crashed child. */
  childEscalated(child: StewardNode, cause: Error | null): void {
    const decision = this.decide(child, 'crash');
    this.act(child, decision, 'escalated', cause);
  }

  #enqueue(op: () => Promise<void>): void {
    this.#ops = this.#ops.then(op).catch((e: unknown) => {
      const error = e instanceof Error ? e : new Error(String(e));
      this.#emitError('supervision', error);
    });
  }

  async #handle(child: Supervised, decision: RestartDecision, reason: RestartCause, cause: Error | null, epoch: number, at: number): Promise<void> {
    if (child.gone || child.parent !== this) return;
    // This steward ended an incarnation since (a restart from above, a stop): that dealt with the child.
    if (this.status >= STOPPING) {
      await child.stopFor('shutdown', cause);
      return;
    }
    if (this.status === DOWN) {
      // Down itself: the child stays down and comes back when this steward is restarted.
      if (decision === 'stop') await child.stopFor(this.#stopReason(child, reason), cause);
      else await child.terminate('restarting', cause);
      return;
    }
    // Restarted since the failure: the child was restarted with it.
    if (epoch !== this.#epoch) return;
    const record = (delayMs: number): RestartRecord => ({
      at,
      incarnation: child.incarnation,
      reason,
      decision,
      delayMs,
      error: cause === null ? null : cause.cause instanceof Error ? cause.cause.message : cause.message,
    });
    if (decision === 'stop') {
      child.record.add(record(0));
      await child.stopFor(this.#stopReason(child, reason), cause);
      return;
    }
    if (decision === 'escalate') {
      child.record.add(record(0));
      if (this.parent === null) await this.#fatal(child, cause);
      else await this.#escalate(child, cause);
      return;
    }
    const group = this.#groupOf(child);
    const delayMs = this.opts.backoff === null ? 0 : backoffDelay(this.opts.backoff, child.record.times.length, this.core.random);
    child.record.add(record(delayMs));
    // Stop the group in reverse start order, then start it again in start order.
    for (let i = group.length - 1; i >= 0; i--) {
      const c = group[i] as Supervised;
      if (c === child) {
        await c.terminate('restarting', cause);
        this.#emitRestarting(c, reason, delayMs);
      } else if (c.restartType === 'temporary') {
        await c.stopFor('sibling-restart', null);
      } else {
        await c.terminate('sibling-restart', null);
        c.record.add({ at, incarnation: c.incarnation, reason: 'sibling-restart', decision: 'restart', delayMs, error: null });
        this.#emitRestarting(c, 'sibling-restart', delayMs);
      }
      if (epoch !== this.#epoch) return;
    }
    const token = ++this.#nextToken;
    for (const c of group) if (!c.gone) this.#pending.set(c, token);
    if (delayMs === 0) {
      this.#restartGroup(group, token, epoch);
      return;
    }
    const timer = this.core.clock.setTimeout(() => {
      this.#timers.delete(timer);
      this.#enqueue(async () => this.#restartGroup(group, token, epoch));
    }, delayMs);
    this.#timers.add(timer);
  }

  #restartGroup(group: readonly Supervised[], token: number, epoch: number): void {
    if (epoch !== this.#epoch || this.status !== RUNNING) return;
    for (const c of group) {
      if (this.#pending.get(c) !== token) continue;
      this.#pending.delete(c);
      if (!c.gone && c.parent === this) c.reincarnate();
    }
  }

  /** The children a failure of `child` restarts, in start order. */
  #groupOf(child: Supervised): Supervised[] {
    const strategy = this.opts.strategy;
    if (strategy === 'one-for-one') return [child];
    const all = this.children.values();
    if (strategy === 'one-for-all') return all;
    const i = all.indexOf(child);
    return i < 0 ? [child] : all.slice(i);
  }

  #stopReason(child: Supervised, reason: RestartCause): StopReason {
    if (reason === 'normal') return 'normal';
    if (this.status !== RUNNING) return 'shutdown';
    if (child.restartType === 'temporary') return 'stopped';
    return 'gave-up';
  }

  /** Past the limit: stop every child (reverse order), and hand the failure to the parent. */
  async #escalate(child: Supervised, cause: Error | null): Promise<void> {
    const parent = this.parent as StewardNode;
    const now = this.core.clock.now();
    const restarts = this.window.count(now);
    this.core.logger.error(
      { steward: this.path, child: child.id, restarts, withinMs: this.opts.withinMs, err: cause },
      'steward exceeded its restart limit; escalating',
    );
    await this.terminate('escalated', cause);
    this.core.emit({
      type: 'escalated',
      actor: this.id,
      actorType: 'steward',
      incarnation: this.incarnation,
      restarts,
      withinMs: this.opts.withinMs,
      to: parent.id,
      at: this.core.clock.now(),
    });
    parent.childEscalated(this, cause);
  }

  /** The root's own limit is exceeded: stop the failing steward and report fatal. */
  async #fatal(child: Supervised, cause: Error | null): Promise<void> {
    const error = new Error(
      `steward '${child.id}' failed more than ${this.opts.maxRestarts} times within ${this.opts.withinMs} ms: the root steward gives up`,
      cause === null ? undefined : { cause },
    );
    await child.stopFor('gave-up', cause);
    this.core.logger.fatal({ steward: child.id, err: error }, 'fatal: the root steward gave up');
    this.core.emit({ type: 'fatal', actor: child.id, actorType: child.typeName, error, at: this.core.clock.now() });
    this.core.fatal(error);
  }

  #emitRestarting(c: Supervised, reason: RestartCause, delayMs: number): void {
    this.core.emit({
      type: 'restarting',
      actor: c.id,
      actorType: c.typeName,
      incarnation: c.incarnation,
      reason,
      delayMs,
      steward: this.id,
      at: this.core.clock.now(),
    });
  }

  #emitError(where: string, error: Error): void {
    this.core.emit({ type: 'error', actor: this.id, actorType: 'steward', incarnation: this.incarnation, where, error, at: this.core.clock.now() });
    this.core.logger.error({ steward: this.path, err: error, where }, `${where} failed`);
  }

  // ---------------------------------------------------------------- as a child of its parent

  /** End this incarnation: every child stops in reverse start order (kept for the next one). */
  terminate(reason: StopReason, cause: Error | null): Promise<void> {
    if (this.status >= STOPPING) return this.#stopping ?? Promise.resolve();
    if (this.status === DOWN) return this.#ending ?? Promise.resolve();
    this.#leave(DOWN);
    this.#ending = this.#terminateChildren(reason, cause).finally(() => {
      this.#ending = null;
    });
    return this.#ending;
  }

  async #terminateChildren(reason: StopReason, cause: Error | null): Promise<void> {
    for (const c of this.children.values().reverse()) {
      if (c.restartType === 'temporary') {
        // Never restarted: a temporary child ends with the incarnation that started it.
        await c.stopFor(reason, cause);
        continue;
      }
      await c.terminate(reason, cause);
      if (reason === 'escalated') {
        this.core.emit({ type: 'stopped', actor: c.id, actorType: c.typeName, incarnation: c.incarnation, reason, at: this.core.clock.now() });
      } else {
        this.#emitRestarting(c, reason === 'sibling-restart' ? 'sibling-restart' : 'escalated', 0);
      }
    }
  }

  /** Start the next incarnation: a clean restart window, every child started again in order. */
  reincarnate(): void {
    if (this.status !== DOWN) return;
    this.#epoch++;
    this.status = RUNNING;
    this.incarnation++;
    this.restarts++;
    this.window.reset();
    this.core.counters.restarts++;
    this.core.emit({
      type: 'restarted',
      actor: this.id,
      actorType: 'steward',
      incarnation: this.incarnation,
      restarts: this.restarts,
      at: this.core.clock.now(),
    });
    for (const c of this.children.values()) if (!c.gone) c.reincarnate();
    this.#armSweep();
  }

  /** Stop for good: every child in reverse start order, then this steward. */
  stopFor(reason: StopReason, cause: Error | null): Promise<void> {
    if (this.status >= STOPPING) return this.#stopping ?? Promise.resolve();
    this.#leave(STOPPING);
    this.#stopping = (async () => {
      await this.#ending;
      for (const c of this.children.values().reverse()) await c.stopFor(reason, cause);
      this.#stopped(reason);
    })();
    return this.#stopping;
  }

  /**
   * Shutdown: children stop in reverse start order, each through `stopCell` (which lets quiet
   * actors stop and abandons the ones still busy), then this steward.
   */
  shutdown(stopCell: (cell: Cell) => Promise<void>): Promise<void> {
    if (this.status >= STOPPING) return this.#stopping ?? Promise.resolve();
    this.#leave(STOPPING);
    this.#stopping = (async () => {
      for (const c of this.children.values().reverse()) {
        if (c.kind === CELL) await stopCell(c as Cell);
        else await (c as StewardNode).shutdown(stopCell);
      }
      this.#stopped('shutdown');
    })();
    return this.#stopping;
  }

  #leave(status: number): void {
    this.#epoch++;
    this.status = status;
    if (this.#sweepTimer !== null) {
      this.core.clock.clearTimeout(this.#sweepTimer);
      this.#sweepTimer = null;
    }
    for (const t of this.#timers) this.core.clock.clearTimeout(t);
    this.#timers.clear();
    this.#pending.clear();
  }

  #stopped(reason: StopReason): void {
    this.status = STOPPED;
    if (this.parent !== null) {
      this.parent.remove(this);
      this.core.unregisterSteward(this);
      this.core.emit({ type: 'stopped', actor: this.id, actorType: 'steward', incarnation: this.incarnation, reason, at: this.core.clock.now() });
    }
  }

  // ---------------------------------------------------------------- heartbeats

  #armSweep(): void {
    if (this.#sweepTimer !== null || this.#cells === 0 || this.status !== RUNNING) return;
    const timer = this.core.clock.setTimeout(this.#onSweep, this.#sweepMs);
    timer.unref?.();
    this.#sweepTimer = timer;
  }

  readonly #onSweep = (): void => {
    this.#sweepTimer = null;
    this.sweep();
    this.#armSweep();
  };

  /**
   * Look at every actor child in the middle of a turn (idle ones cannot hang, so a sweep costs
   * nothing per idle actor). One whose last progress (the turn's start or its last
   * `ctx.heartbeat()`, stamped on the clock when it happened) is as old as its hang timeout is
   * hung. Returns how many were. A hang is found between `timeoutMs` and `timeoutMs + sweepMs`
   * after the last progress.
   */
  sweep(): number {
    const now = this.core.clock.now();
    const fallback = this.opts.hangTimeoutMs;
    let hung = 0;
    for (const cell of this.inTurn) {
      if (cell.current === null) {
        this.inTurn.delete(cell);
        continue;
      }
      const limit = cell.opts.hangTimeoutMs ?? fallback;
      const silent = now - cell.hbAt;
      if (silent >= limit) {
        hung++;
        cell.hung(silent, limit);
      }
    }
    return hung;
  }

  // ---------------------------------------------------------------- inspection

  snapshot(): StewardSnapshot {
    return {
      kind: 'steward',
      name: this.id,
      path: this.path,
      status: this.statusName,
      strategy: this.opts.strategy,
      maxRestarts: this.opts.maxRestarts,
      withinMs: this.opts.withinMs,
      restartsInWindow: this.window.count(this.core.clock.now()),
      incarnation: this.incarnation,
      history: [...this.record.history],
      children: this.children.values().map((c) => (c.kind === CELL ? (c as Cell).treeEntry() : (c as StewardNode).snapshot())),
    };
  }
}
