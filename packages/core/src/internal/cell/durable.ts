// A durable actor's turns (the chapter of the owner loop that runs them): runTurns' loop without its
// hand-inlined fast paths (a durable turn's cost is its commit), plus the output gate — a turn that
// may write marks the state dirty and holds its reply and the messages it sends until that state
// is committed. Reminders on their way in are marked messages.

import { isBecome } from '../../defineActor.js';
import type { CompiledMessage } from '../../defineProtocol.js';
import {
  ActorStopped,
  errorFromJSON,
  type HoldfastError,
  InvalidArgument,
  InvalidReply,
  isHoldfastError,
  type SerializedError,
  toError,
} from '../../errors.js';
import type { AskOptions } from '../../options.js';
import type { StoredReply } from '../../store.js';
import { currentTurn, outputGate, type Turn } from '../callChain.js';
import type { HandlerContext } from '../HandlerContext.js';
import { type MessageTurn, type ReplyChannel, TellTurn } from '../ReplyChannel.js';
import { smallMs } from '../smallInt.js';
import { admit, askQueued, deadLetter, tellQueued } from './admission.js';
import type { Cell } from './Cell.js';
import { type DurableSlot, endGatedTurn, Held } from './durableSlot.js';
import { ASYNC, type BoundMessage } from './handlers.js';
import { crash } from './lifecycle.js';
import { GATE_ZOMBIE, RUNNING, rareOf } from './parts.js';
import { sendReply } from './replies.js';
import { runSystemMessages } from './systemMessages.js';
import { callAsync, endTurn } from './turns.js';

// ---------------------------------------------------------------- the output gate

/**
 * Where a message sent by `turn` must wait: its actor's slot when the turn holds its outputs (the
 * state so far is enlisted for the next commit), `'fenced'` when it must not go at all (a fenced
 * turn's state was thrown away: what it sends would reveal it), or null when it goes now.
 */
function gateOf(turn: Turn): DurableSlot | 'fenced' | null {
  const sender = turn.owner as { durable?: DurableSlot | null };
  const slot = sender.durable;
  if (slot == null) return null;
  if (turn.fenced) return 'fenced';
  if (!slot.gatedTurn || turn.done) return null;
  // A message leaves only once the state it may reveal is committed. (An async turn that awaits
  // the answer would wait forever if its message had to wait for the end of the turn.)
  if (writes((turn as MessageTurn).msg as BoundMessage) && (sender as Cell).status === RUNNING) {
    slot.dirty = true;
    slot.durability.enlist(sender as Cell, slot);
  }
  return slot;
}

/** An ask sent from a durable turn that holds its outputs: queued once that turn's state is committed. */
export function holdAsk(cell: Cell, msg: CompiledMessage, input: unknown, options: AskOptions | undefined, turn: Turn): Promise<unknown> | null {
  const slot = gateOf(turn);
  if (slot === null) return null;
  if (slot === 'fenced') return Promise.reject(new ActorStopped(turn.actorId, 'restarting'));
  return new Promise((resolve, reject) => {
    slot.held.push(new Held(null, undefined, undefined, () => askQueued(cell, msg, input, options, turn).then(resolve, reject), reject));
  });
}

/** A tell sent from a durable turn that holds its outputs: true when it was held (or refused). */
export function holdTell(cell: Cell, msg: CompiledMessage, input: unknown): boolean {
  const turn = currentTurn();
  const slot = turn === null ? null : gateOf(turn);
  if (slot === null) return false;
  if (slot === 'fenced') deadLetter(cell, msg.name, input, 'fenced', false);
  else slot.held.push(new Held(null, undefined, undefined, () => tellQueued(cell, msg, input), null));
  return true;
}

/** A deferred reply (`ctx.defer()`) of a durable actor with uncommitted state: sent (and checked) once that state is committed. */
export function holdDeferred(cell: Cell, channel: ReplyChannel, value: unknown): boolean {
  (cell.durable as DurableSlot).held.push(
    new Held(
      null,
      undefined,
      undefined,
      () => void sendReply(cell, channel, value, false),
      (e) => channel.failWith(e),
    ),
  );
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
    // A retried keyed ask whose reply is kept: that reply again, without a turn.
    if (ask !== null && ask.extra?.key !== undefined && slot.replies !== null && !h.readonly) {
      const kept = slot.replies.get(ask.extra.key);
      if (kept !== undefined) {
        mailbox.shift();
        if (cell.waiters !== null && cell.waiters.length > 0) admit(cell);
        answerKept(cell, slot, h, ask, kept);
        continue;
      }
    }
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
      result = h.mode === ASYNC ? callAsync(cell, h, input, turn) : h.fn(cell.state, input, cell.ctx as HandlerContext);
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
    // To the precision of an ask's start time: a clock read per run of turns is not free either.
    const now = cell.core.deadlines.now();
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
  cell.hbAt = smallMs(cell.core.clock.now());
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
    // A keyed ask's reply is kept with the state this turn left (committed together).
    const key = ask?.extra?.key;
    if (key !== undefined && !(ask as ReplyChannel).deferred) {
      if (threw) slot.keepReply({ key, message: h.name, ok: false, error: (value as HoldfastError).toJSON() });
      else slot.keepReply(h.reply === undefined ? { key, message: h.name, ok: true } : { key, message: h.name, ok: true, value: reply });
    }
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
 * Answer a retried keyed ask with the reply kept for its key, through the output gate like any
 * reply (it waits for the commit of the turn that gave it, when that is still in flight). A key
 * kept for another message is refused.
 */
function answerKept(cell: Cell, slot: DurableSlot, h: BoundMessage, ask: ReplyChannel, kept: StoredReply): void {
  let error: unknown;
  if (kept.message !== h.name) {
    error = new InvalidArgument(`idempotencyKey '${kept.key}' of '${cell.id}' was used for '${kept.message}', not '${h.name}'`);
    ask.failWith(error);
    return;
  }
  if (!kept.ok) error = errorFromJSON(kept.error as SerializedError);
  if (!slot.pending) {
    if (error !== undefined) ask.failWith(error);
    else ask.succeed(kept.value);
    return;
  }
  slot.held.push(new Held(ask, kept.value, error, null, null));
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
