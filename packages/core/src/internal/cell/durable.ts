// Durable actors: an actor whose state lives in the system's store. This chapter owns waking one
// (load, migrate, check), its turns (the same loop as any actor's, with one difference: a turn
// that may write marks the state dirty and holds what it sends), the output gate (replies and
// messages of a turn leave only once the state that turn left is committed), and what happens
// when a commit fails (the held outputs fail, the actor restarts from what is stored).
//
// Invariants:
// - `held` are the outputs of turns whose state is not sealed into a commit yet, in order;
//   `sealed` those waiting on the commit in flight. Both are released in order, or failed.
// - A read-only turn (`readonly: true` in the protocol) never dirties; its outputs leave at once
//   unless earlier outputs are still held (they would otherwise overtake them, or reveal state
//   that may yet roll back).
// - A crash throws away the dirty state: every held output fails, the in-flight commit (state
//   from before) still lands, and the next incarnation loads what is stored.
import { type DurableSpec, isBecome, type Reminder } from '../../defineActor.js';
import type { CompiledMessage } from '../../defineProtocol.js';
import { ActorStopped, CommitFailed, type CrashReason, InvalidReply, isHoldfastError, StateInvalid, toError } from '../../errors.js';
import type { AskOptions } from '../../options.js';
import type { ReminderWrite } from '../../store.js';
import { currentTurn, outputGate, type Turn } from '../callChain.js';
import { ASK_ZOD, type CompiledCheck, compileSchema } from '../compileSchema.js';
import { type Durability, keyOf } from '../durable/Durability.js';
import { HandlerContext } from '../HandlerContext.js';
import { type MessageTurn, type ReplyChannel, TellTurn } from '../ReplyChannel.js';
import { admit, askQueued, deadLetter, tellQueued } from './admission.js';
import type { Cell } from './Cell.js';
import { ASYNC, type BoundMessage } from './handlers.js';
import { crash, reportError, startIncarnation, stopForGood } from './lifecycle.js';
import { GATE_DOWN, GATE_ZOMBIE, RUNNING, rareOf, STARTING, STOPPING } from './parts.js';
import { runSystemMessages } from './systemMessages.js';
import { callAsync, endTurn } from './turns.js';

/** A durable type's spec with its defaults filled in. */
export interface ResolvedDurable {
  readonly schema: DurableSpec<unknown>['schema'];
  /** The schema compiled to a plain check (zod's own output, or ASK_ZOD: ask zod), or null. */
  readonly fast: CompiledCheck | null;
  readonly version: number;
  readonly migrate: NonNullable<DurableSpec<unknown>['migrate']>;
}

export function resolveDurable(spec: DurableSpec<unknown>): ResolvedDurable {
  return { schema: spec.schema, fast: compileSchema(spec.schema), version: spec.version ?? 1, migrate: spec.migrate ?? {} };
}

/** The state as zod's schema gives it, or zod's issues. Compiled when the schema allows it. */
export function checkState(spec: ResolvedDurable, state: unknown): { ok: true; data: unknown } | { ok: false; issues: StateInvalid['details']['issues'] } {
  if (spec.fast !== null) {
    const v = spec.fast(state);
    if (v !== ASK_ZOD) return { ok: true, data: v };
  }
  const r = spec.schema.safeParse(state);
  return r.success ? { ok: true, data: r.data } : { ok: false, issues: r.error.issues };
}

/** Something a turn sent or answered, waiting for the commit of the state that turn left. */
class Held {
  constructor(
    /** A reply: the ask it answers. */
    readonly channel: ReplyChannel | null,
    readonly value: unknown,
    /** A reply that is a failure (a business refusal), or undefined. */
    readonly error: unknown,
    /** A message sent: queue it. */
    readonly send: (() => void) | null,
    /** A message sent: fail its sender (an ask), when the turn's state is thrown away. */
    readonly fail: ((e: unknown) => void) | null,
  ) {}

  release(): void {
    if (this.send !== null) this.send();
    else if (this.error !== undefined) (this.channel as ReplyChannel).failWith(this.error);
    else (this.channel as ReplyChannel).succeed(this.value);
  }

  drop(error: Error): void {
    if (this.channel !== null) {
      if (!this.channel.settled) this.channel.failWith(error);
    } else this.fail?.(error);
  }
}

/** A durable actor's part of its cell: revision, dirtiness, and the outputs its turns hold. */
export class DurableSlot {
  readonly key: string;
  readonly spec: ResolvedDurable;
  readonly durability: Durability;
  /** The revision of the stored row this state was loaded from or last written as (0: none). */
  revision = 0;
  /** The schema version the row was stored with, when it was loaded. */
  loadedVersion = 0;
  /** The state changed since it was last sealed into a commit. */
  dirty = false;
  /** Enlisted for the next commit. */
  enlisted = false;
  /** A commit with this actor's state is in flight. */
  inFlight = false;
  /** Outputs of turns not sealed into a commit yet, in order. */
  held: Held[] = [];
  /** Outputs waiting on the commit in flight. */
  sealed: Held[] | null = null;
  /** The running turn holds what it sends (it may write, or earlier outputs are held). */
  gatedTurn = false;
  /** When it last ran turns or woke (the system's clock). */
  lastUsed = 0;
  /** When it was last moved to the recent end of the active set. */
  touchedAt = 0;
  /** Reminders set or removed by turns not sealed into a commit yet (reminders.ts). */
  reminderOps: Map<string, ReminderWrite> | null = null;
  /** Deliveries (their keys) handled by turns not sealed into a commit yet. */
  delivered: string[] | null = null;
  /** The same two, for the commit in flight. */
  sealedOps: ReminderWrite[] | null = null;
  sealedDelivered: string[] | null = null;
  /** The reminder the running turn delivers (`ctx.reminder`), or null. */
  delivering: Reminder | null = null;

  constructor(cell: Cell, durability: Durability) {
    this.key = keyOf(cell.def.name, cell.id);
    this.spec = resolveDurable(cell.def.behaviour.durable as DurableSpec<unknown>);
    this.durability = durability;
  }

  /** Outputs wait: a write is not committed yet, or earlier outputs still wait. */
  get pending(): boolean {
    return this.dirty || this.held.length > 0 || this.inFlight;
  }

  /** Awake with nothing to do and nothing owed: it may be put to sleep. */
  idle(cell: Cell): boolean {
    return (
      cell.status === RUNNING &&
      !cell.busy &&
      !this.pending &&
      !this.enlisted &&
      cell.mailbox.length === 0 &&
      cell.sys === null &&
      (cell.rare?.deferred?.size ?? 0) === 0
    );
  }

  /** Release now, or hold behind what waits. */
  output(h: Held): void {
    if (this.pending) this.held.push(h);
    else h.release();
  }

  /** The flush took this actor's state: what its turns held now waits on that commit. */
  sealBatch(): ReminderWrite[] | undefined {
    this.dirty = false;
    this.sealed = this.held;
    this.held = [];
    this.inFlight = true;
    this.sealedOps = this.reminderOps === null ? null : [...this.reminderOps.values()];
    this.reminderOps = null;
    this.sealedDelivered = this.delivered;
    this.delivered = null;
    return this.sealedOps ?? undefined;
  }

  committed(cell: Cell): void {
    this.inFlight = false;
    this.revision++;
    if (this.sealedOps !== null || this.sealedDelivered !== null) {
      this.durability.remindersCommitted(cell.def.name, cell.id, this.sealedOps, this.sealedDelivered);
      this.sealedOps = this.sealedDelivered = null;
    }
    const sealed = this.sealed;
    this.sealed = null;
    if (sealed !== null) for (const h of sealed) h.release();
    // Read-only turns that queued behind the commit: nothing they saw is uncommitted any more.
    if (!this.dirty && this.held.length > 0) {
      const held = this.held;
      this.held = [];
      for (const h of held) h.release();
    }
    // It stopped taking turns while too much was held: go on.
    if (cell.ready && !cell.scheduled) cell.core.dispatcher.schedule(cell);
  }

  commitFailed(cell: Cell, error: CommitFailed): void {
    this.inFlight = false;
    this.sealedOps = null;
    if (this.sealedDelivered !== null) this.durability.deliveriesFailed(this.sealedDelivered);
    this.sealedDelivered = null;
    const sealed = this.sealed;
    this.sealed = null;
    if (sealed !== null) for (const h of sealed) h.drop(error);
    failDurable(cell, error, 'commit-failed');
  }

  /** The state failed its schema when it was about to be committed: the turns that made it crash. */
  commitRefused(cell: Cell, error: StateInvalid): void {
    failDurable(cell, error, 'invalid-state');
  }
}

/** Throw away the dirty state and fail what it held; crash the actor (it restarts from the store). */
function failDurable(cell: Cell, error: Error, reason: CrashReason): void {
  reportError(cell, reason === 'commit-failed' ? 'commit' : 'state check', error);
  dropUncommitted(cell, error);
  if (cell.status === RUNNING) crash(cell, null, error, reason);
}

/** A crash: the state since the last sealed commit is gone, and every output it held fails. */
export function dropUncommitted(cell: Cell, cause: Error): void {
  const slot = cell.durable;
  if (slot === null) return;
  endGatedTurn(slot);
  slot.dirty = false;
  slot.durability.withdraw(slot);
  slot.reminderOps = null;
  slot.delivering = null;
  if (slot.delivered !== null) slot.durability.deliveriesFailed(slot.delivered);
  slot.delivered = null;
  if (slot.held.length === 0) return;
  const held = slot.held;
  slot.held = [];
  const error = isHoldfastError(cause, 'COMMIT_FAILED') || isHoldfastError(cause, 'STATE_INVALID') ? cause : new CommitFailed(cell.id, cell.def.name, cause);
  for (const h of held) h.drop(error);
}

function endGatedTurn(slot: DurableSlot): void {
  if (slot.gatedTurn) {
    slot.gatedTurn = false;
    outputGate.turns--;
  }
}

// ---------------------------------------------------------------- waking

/**
 * Wake `cell` (new, or restarting after a crash): load its row, migrate and check it, or run
 * `init` when nothing is stored; then start the incarnation. Messages wait in the mailbox.
 */
export function wakeCell(cell: Cell, restarting: boolean): void {
  const slot = cell.durable as DurableSlot;
  cell.status = STARTING;
  cell.busy = true;
  if (!restarting) {
    cell.ctx = new HandlerContext(cell);
    cell.core.emit({ type: 'spawned', actor: cell.id, actorType: cell.def.name, at: cell.core.clock.now() });
  }
  slot.durability.activations++;
  slot.lastUsed = slot.touchedAt = cell.core.clock.now();
  slot.durability.touch(cell);
  loadState(cell, slot).then(
    (state) => {
      if (cell.status !== STARTING) return;
      cell.state = state;
      cell.live = true;
      cell.busy = false;
      cell.gate &= ~GATE_DOWN;
      if (restarting) {
        cell.core.emit({
          type: 'restarted',
          actor: cell.id,
          actorType: cell.def.name,
          incarnation: cell.incarnation,
          restarts: cell.restarts,
          at: cell.core.clock.now(),
        });
      }
      startIncarnation(cell);
    },
    (e: unknown) => {
      if (cell.status !== STARTING) return;
      wakeFailed(cell, toError(e));
    },
  );
}

async function loadState(cell: Cell, slot: DurableSlot): Promise<unknown> {
  const type = cell.def.name;
  const row = await slot.durability.load(type, cell.id);
  const spec = slot.spec;
  if (row === null) {
    slot.revision = 0;
    slot.loadedVersion = 0;
    // Nothing stored: `init`, written by the first turn that writes.
    return (cell.def.behaviour.init as (a: unknown) => unknown)(cell.args);
  }
  slot.revision = row.revision;
  slot.loadedVersion = row.version;
  let state = row.state;
  let version = row.version;
  const invalid = (at: 'load' | 'migrate', message: string) =>
    new StateInvalid({ actor: cell.id, type, at, version, issues: [{ path: [], message, code: 'custom' }] });
  if (!Number.isInteger(version) || version < 1 || version > spec.version) {
    throw invalid('load', `stored with schema version ${version}, but this actor type is at version ${spec.version}`);
  }
  while (version < spec.version) {
    const step = spec.migrate[version];
    if (step === undefined) throw invalid('migrate', `no migration from version ${version} to ${version + 1}`);
    try {
      state = step(state);
    } catch (e) {
      throw invalid('migrate', `migration from version ${version} threw: ${toError(e).message}`);
    }
    version++;
  }
  const checked = checkState(spec, state);
  if (!checked.ok) throw new StateInvalid({ actor: cell.id, type, at: version === row.version ? 'load' : 'migrate', version, issues: checked.issues });
  return checked.data;
}

/**
 * Waking failed (the row fails its schema, the store is down): the actor does not start. What
 * waits for it fails with the reason, the row is left as it is, and the next message tries again.
 */
function wakeFailed(cell: Cell, error: Error): void {
  cell.core.counters.crashes++;
  cell.core.emit({
    type: 'crashed',
    actor: cell.id,
    actorType: cell.def.name,
    incarnation: cell.incarnation,
    reason: 'start-failed',
    message: null,
    error,
    decision: 'stop',
    at: cell.core.clock.now(),
  });
  cell.log.error({ err: error, reason: 'start-failed' }, 'durable actor could not wake');
  for (const m of cell.mailbox.drain()) {
    if (m.ask !== null) {
      if (!m.ask.settled) m.ask.failWith(error);
    } else deadLetter(cell, m.msg.name, m.input, 'stopped', false);
  }
  cell.busy = false;
  void stopForGood(cell, 'stopped', error);
}

/**
 * The cell that serves a durable actor now, for a send to `cell`: itself while awake, a fresh
 * one woken in its place once it stopped (asleep, or stopped for good: a durable actor always
 * exists), or the reason it cannot be reached (the store is down, the system drains).
 */
export function durableTarget(cell: Cell): Cell | Error {
  const slot = cell.durable as DurableSlot;
  const refused = slot.durability.refusal(cell.id);
  if (refused !== null) return refused;
  if (cell.status < STOPPING) return cell;
  if (cell.core.draining) return new ActorStopped(cell.id, cell.stopReason);
  return cell.core.wake(cell);
}

// ---------------------------------------------------------------- the output gate

/** An ask sent from a durable turn that holds its outputs: queued once that turn's state is committed. */
export function holdAsk(cell: Cell, msg: CompiledMessage, input: unknown, options: AskOptions | undefined, turn: Turn): Promise<unknown> | null {
  const slot = (turn.owner as { durable?: DurableSlot | null }).durable;
  if (slot == null) return null;
  // A fenced turn's state was thrown away: what it sends would reveal it.
  if (turn.fenced) return Promise.reject(new ActorStopped(turn.actorId, 'restarting'));
  if (!slot.gatedTurn || turn.done) return null;
  commitBeforeSend(turn.owner as Cell, slot, turn);
  return new Promise((resolve, reject) => {
    slot.held.push(new Held(null, undefined, undefined, () => askQueued(cell, msg, input, options, turn).then(resolve, reject), reject));
  });
}

/**
 * A message leaves only once the state it may reveal is committed: if the sending turn may have
 * written, its state so far is enlisted now. (An async turn that awaits the answer would wait
 * forever if its message had to wait for the end of the turn.)
 */
function commitBeforeSend(sender: Cell, slot: DurableSlot, turn: Turn): void {
  if (writes((turn as MessageTurn).msg as BoundMessage) && sender.status === RUNNING) {
    slot.dirty = true;
    slot.durability.enlist(sender, slot);
  }
}

/** A tell sent from a durable turn that holds its outputs: true when it was held. */
export function holdTell(cell: Cell, msg: CompiledMessage, input: unknown): boolean {
  const turn = currentTurn();
  if (turn === null) return false;
  const slot = (turn.owner as { durable?: DurableSlot | null }).durable;
  if (slot == null) return false;
  if (turn.fenced) {
    deadLetter(cell, msg.name, input, 'fenced', false);
    return true;
  }
  if (!slot.gatedTurn || turn.done) return false;
  commitBeforeSend(turn.owner as Cell, slot, turn);
  slot.held.push(new Held(null, undefined, undefined, () => tellQueued(cell, msg, input), null));
  return true;
}

/** A deferred reply (`ctx.defer()`) of a durable actor: it waits behind uncommitted state. */
export function deliverDurable(cell: Cell, channel: ReplyChannel, value: unknown): boolean {
  if (channel.settled) {
    cell.late(channel);
    return false;
  }
  const issues = cell.opts.validateReply ? channel.msg.replyIssues(value) : null;
  if (issues !== null) {
    const err = new InvalidReply({ actor: cell.id, message: channel.msg.name, issues });
    channel.failWith(err);
    reportError(cell, `deferred reply to '${channel.msg.name}'`, err);
    return false;
  }
  (cell.durable as DurableSlot).output(new Held(channel, channel.msg.reply === undefined ? undefined : value, undefined, null, null));
  return true;
}

// ---------------------------------------------------------------- turns

/**
 * The turn loop of a durable actor: runTurns' loop without its hand-inlined fast paths (a durable
 * turn's cost is its commit), plus the output gate. Stops taking turns while a mailbox's worth
 * of outputs is held, until a commit releases them.
 */
export function runDurableTurns(cell: Cell, budget: number): number {
  const slot = cell.durable as DurableSlot;
  const mailbox = cell.mailbox;
  const dispatcher = cell.core.dispatcher;
  let n = 0;
  while (n < budget && !dispatcher.yieldRequested) {
    if (cell.sys !== null) runSystemMessages(cell);
    if (cell.busy || cell.status !== RUNNING) break;
    if (slot.held.length >= cell.opts.capacity) break;
    const h = mailbox.headMsg() as BoundMessage | undefined;
    if (h === undefined) break;
    const ask = mailbox.headAsk();
    if (ask?.settled) {
      mailbox.shift();
      if (cell.waiters !== null && cell.waiters.length > 0) admit(cell);
      continue;
    }
    n++;
    const input = mailbox.headInput();
    const reminder = h.reminder;
    if (reminder !== null) {
      // Handling a reminder removes it, with this turn's commit (unless the handler sets it again).
      slot.delivering = { name: reminder.name, at: reminder.at };
      (slot.reminderOps ??= new Map()).set(reminder.name, { name: reminder.name, at: null });
      (slot.delivered ??= []).push(reminder.key);
    }
    if (writes(h) || slot.pending) {
      slot.gatedTurn = true;
      outputGate.turns++;
    }
    const turn: MessageTurn = ask ?? (cell.running = new TellTurn(h, input, cell));
    cell.inHandler = true;
    let result: unknown;
    try {
      result = h.mode === ASYNC ? callAsync(cell, h, input, turn) : h.fn(cell.state, input, cell.ctx);
    } catch (e) {
      cell.inHandler = false;
      cell.running = null;
      mailbox.shift();
      if (cell.waiters !== null && cell.waiters.length > 0) admit(cell);
      durableTurnEnded(cell, h, turn, e, true);
      continue;
    }
    cell.inHandler = false;
    cell.running = null;
    mailbox.shift();
    if (cell.waiters !== null && cell.waiters.length > 0) admit(cell);
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      awaitDurableTurn(cell, h, turn, result as PromiseLike<unknown>);
      continue;
    }
    durableTurnEnded(cell, h, turn, result, false);
  }
  cell.turns += n;
  if (n > 0) {
    cell.lastTurnAt = cell.core.wall.now;
    const now = cell.core.clock.now();
    // The active set's order is kept to the nearest 100 ms: a Map move per run of turns is not free.
    if (now - slot.touchedAt >= 100) {
      slot.touchedAt = now;
      slot.durability.touch(cell);
    }
    slot.lastUsed = now;
  }
  cell.core.counters.turns += n;
  if (cell.core.draining) cell.core.noteIdle();
  return n;
}

function awaitDurableTurn(cell: Cell, h: BoundMessage, turn: MessageTurn, result: PromiseLike<unknown>): void {
  h.learnAsync();
  cell.busy = true;
  cell.current = turn;
  cell.hbAt = cell.core.clock.now();
  cell.parent?.inTurn.add(cell);
  result.then(
    (v) => asyncDurableTurnEnded(cell, h, turn, v, false),
    (e) => asyncDurableTurnEnded(cell, h, turn, e, true),
  );
}

function asyncDurableTurnEnded(cell: Cell, h: BoundMessage, turn: MessageTurn, value: unknown, threw: boolean): void {
  if (turn.fenced) {
    const rare = rareOf(cell);
    if (--rare.zombies === 0) cell.gate &= ~GATE_ZOMBIE;
    return;
  }
  cell.busy = false;
  durableTurnEnded(cell, h, turn, value, threw);
  if (cell.ready) cell.core.dispatcher.schedule(cell);
  else if (cell.core.draining) cell.core.noteIdle();
}

/** A durable turn ended: mark the state dirty (unless read-only) and send its reply through the gate. */
function durableTurnEnded(cell: Cell, h: BoundMessage, turn: MessageTurn, value: unknown, threw: boolean): void {
  const slot = cell.durable as DurableSlot;
  endTurn(cell, turn);
  slot.delivering = null;
  if (threw && !isHoldfastError(value, 'REJECTED')) {
    // A crash: the dirty state is thrown away with everything it held.
    endGatedTurn(slot);
    crash(cell, turn, toError(value), 'threw');
    return;
  }
  let reply = value;
  if (!threw && reply !== null && typeof reply === 'object' && isBecome(reply)) {
    cell.state = reply.state;
    reply = reply.reply;
  }
  const ask = turn.isAsk ? (turn as ReplyChannel) : null;
  if (!threw && ask !== null && !ask.deferred && h.reply !== undefined && cell.opts.validateReply) {
    const issues = h.replyIssues(reply);
    if (issues !== null) {
      endGatedTurn(slot);
      crash(cell, ask, new InvalidReply({ actor: cell.id, message: h.name, issues }), 'invalid-reply');
      return;
    }
  }
  if (writes(h)) {
    slot.dirty = true;
    slot.durability.enlist(cell, slot);
  }
  endGatedTurn(slot);
  if (turn instanceof TellTurn) {
    turn.done = true;
    if (threw) {
      cell.core.emit({
        type: 'error',
        actor: cell.id,
        actorType: cell.def.name,
        incarnation: cell.incarnation,
        where: `tell '${h.name}' rejected`,
        error: value as Error,
        at: cell.core.clock.now(),
      });
      cell.log.warn({ message: h.name, err: value }, 'tell rejected');
    }
    return;
  }
  if (ask === null || ask.deferred) return;
  // Nothing waits to be committed (a read-only turn of a committed actor): the reply leaves now.
  if (!slot.pending) {
    if (threw) ask.failWith(value);
    else ask.succeed(h.reply === undefined ? undefined : reply);
    return;
  }
  if (threw) slot.held.push(new Held(ask, undefined, value, null, null));
  else slot.held.push(new Held(ask, h.reply === undefined ? undefined : reply, undefined, null, null));
}

/**
 * A reminder on its way into the mailbox: the message it delivers, marked with which reminder it
 * is (an object whose prototype is the bound message, so the turn loop calls it like any other).
 */
export function reminderMessage(bound: BoundMessage, name: string, at: number, key: string): BoundMessage {
  return Object.create(bound, { reminder: { value: { name, at, key } } }) as BoundMessage;
}

/** The turn may change the state: not read-only, or it handles a reminder (which it removes). */
function writes(h: BoundMessage): boolean {
  return !h.readonly || h.reminder !== null;
}

/** A restart of a durable actor: the next incarnation loads its state from the store. */
export function restartDurable(cell: Cell): void {
  rareOf(cell);
  wakeCell(cell, true);
}

/** What inspection shows of a durable actor. */
export function durableInfo(
  cell: Cell,
): { revision: number; version: number; storedVersion: number; dirty: boolean; held: number; committing: boolean } | null {
  const slot = cell.durable;
  if (slot === null) return null;
  return {
    revision: slot.revision,
    version: slot.spec.version,
    storedVersion: slot.loadedVersion,
    dirty: slot.dirty,
    held: slot.held.length + (slot.sealed?.length ?? 0),
    committing: slot.inFlight,
  };
}
