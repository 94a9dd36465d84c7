// The turn loop: one message at a time, from the head of the mailbox, each handler called with
// (state, input, ctx). A synchronous handler's turn ends when it returns; an async one keeps the
// actor busy until its promise settles. The hottest code in the system: see the notes inline.

import { isBecome } from '../../defineActor.js';
import { runAsync, syncState as syncState_ } from '../callChain.js';
import { ASK_ZOD as ASK_ZOD_ } from '../compileSchema.js';
import type { HandlerContext } from '../HandlerContext.js';
import { type MessageTurn, type ReplyChannel, TellTurn } from '../ReplyChannel.js';
import type { ObserverState } from '../SystemCore.js';
import { smallMs } from '../smallInt.js';
import { admit } from './admission.js';
import type { Cell } from './Cell.js';
import { runDurableTurns } from './durable.js';
import { ASYNC as ASYNC_, type BoundMessage } from './handlers.js';
import { BUSY as BUSY_, GATE_ZOMBIE, IN_HANDLER as IN_HANDLER_, RUNNING as RUNNING_, rareOf } from './parts.js';
import { turnReturned, turnThrew } from './replies.js';
import { runSystemMessages } from './systemMessages.js';

// Imports read on every turn, through module constants (why: see Cell.ts).
const ASK_ZOD = ASK_ZOD_;
const ASYNC = ASYNC_;
const BUSY = BUSY_;
const IN_HANDLER = IN_HANDLER_;
const RUNNING = RUNNING_;
const syncState = syncState_;

export function runSome(cell: Cell, budget: number): number {
  // This cell is the one running for the whole run of turns; `inHandler` says when one of its
  // handlers is on the stack (see currentTurn).
  const sync = syncState;
  const prev = sync.cell;
  sync.cell = cell;
  try {
    return cell.durable === null ? runTurns(cell, budget) : runDurableTurns(cell, budget);
  } finally {
    sync.cell = prev;
  }
}

export function runTurns(cell: Cell, budget: number): number {
  let n = 0;
  const mailbox = cell.mailbox;
  const observer = cell.core.observer;
  const dispatcher = cell.core.dispatcher;
  while (n < budget && !dispatcher.yieldRequested) {
    if (cell.sys !== null) runSystemMessages(cell);
    if (cell.busy || cell.status !== RUNNING) break;
    // The message stays at the head of the mailbox while its handler runs (see syncState).
    const h = mailbox.headMsg() as BoundMessage | undefined;
    if (h === undefined) break;
    const ask = mailbox.headAsk();
    // A run of synchronous tells (unobserved): the commonest turns, in a loop of their own.
    if (ask === null && observer === null && h.mode !== ASYNC) {
      n += runSyncTells(cell, h, budget - n);
      if (mailbox.length === 0) break;
      continue;
    }
    // An ask that timed out or was cancelled before its turn began is never run.
    if (ask?.settled) {
      mailbox.shift();
      if (cell.waiters !== null && cell.waiters.length > 0) admit(cell);
      continue;
    }
    // A turn's start is proof of progress (the steward's sweep watches turns in progress from
    // their start, and heartbeats). The count is stored when the loop ends.
    n++;
    // The turn, inlined by hand: this loop is the hottest code in the system, and relying on
    // the JIT to inline four levels of calls leaves it over its inlining budget.
    const input = mailbox.headInput();
    const mode = h.mode;
    // Turn timing, for metrics: one turn in `every` (async turns always), and only with an observer.
    let t0 = 0;
    if (observer !== null && (mode === ASYNC || --observer.countdown <= 0)) {
      if (mode !== ASYNC) observer.countdown = observer.every;
      t0 = performance.now();
    }
    // An async turn is a link of the call chain from its start (AsyncLocalStorage carries it);
    // a sync tell gets one only if its handler asks someone (runningTurn makes it then).
    if (mode === ASYNC && ask === null) cell.running = new TellTurn(h, input, cell);
    cell.flags |= IN_HANDLER;
    let result: unknown;
    try {
      result = mode === ASYNC ? callAsync(cell, h, input, ask ?? (cell.running as MessageTurn)) : h.fn(cell.state, input, cell.ctx as HandlerContext);
    } catch (e) {
      cell.flags &= ~IN_HANDLER;
      if (t0 !== 0) (observer as ObserverState).observe(cell.def.name, h.name, performance.now() - t0);
      headThrew(cell, ask, h, input, e);
      continue;
    }
    cell.flags &= ~IN_HANDLER;
    // The chain link made for this tell's turn, if any (asks are their own link).
    const link = cell.running;
    if (link !== null) cell.running = null;
    mailbox.shift();
    if (cell.waiters !== null && cell.waiters.length > 0) admit(cell);
    if (result !== null && typeof result === 'object') {
      if (typeof (result as PromiseLike<unknown>).then === 'function') {
        awaitTurn(cell, h, ask ?? link ?? new TellTurn(h, input, cell), result as PromiseLike<unknown>);
        if (observer !== null) rareOf(cell).turnStart = t0 === 0 ? performance.now() : t0;
        continue;
      }
      // A tell's handler may replace the state (`become`); there is no reply.
      if (ask === null && isBecome(result)) cell.state = result.state;
    }
    if (t0 !== 0) (observer as ObserverState).observe(cell.def.name, h.name, performance.now() - t0);
    if (ask === null) {
      if (link !== null) link.done = true;
      // An empty mailbox ends the run here (most runs are one turn): what the handler may have
      // set off (a system message) makes the cell ready, and the dispatcher runs it again.
      if (mailbox.length === 0) break;
      continue;
    }
    // The common reply, here: a plain value, not deferred, with no reply schema to check or one
    // whose compiled check takes it. Objects (which may be `become`), deferred replies and replies
    // that zod must judge go through turnReturned.
    if (
      !ask.deferred &&
      (result === null || typeof result !== 'object') &&
      (h.reply === undefined || !cell.opts.validateReply || (h.fastReply !== null && h.fastReply(result) !== ASK_ZOD))
    ) {
      ask.done = true;
      ask.succeed(h.reply === undefined ? undefined : result);
      if (mailbox.length === 0) break;
      continue;
    }
    turnReturned(cell, ask, result);
  }
  cell.turns += n;
  if (n > 0) cell.lastTurnAt = cell.core.wall.now;
  cell.core.counters.turns += n;
  if (cell.core.draining) cell.core.noteIdle();
  return n;
}

/** The handler of the message at the mailbox head threw: take the message out and settle its turn. */
function headThrew(cell: Cell, ask: ReplyChannel | null, h: BoundMessage, input: unknown, thrown: unknown): void {
  const turn = ask ?? cell.running ?? new TellTurn(h, input, cell);
  cell.running = null;
  cell.mailbox.shift();
  if (cell.waiters !== null && cell.waiters.length > 0) admit(cell);
  turnThrew(cell, turn, thrown);
}

/**
 * Run synchronous tells from the head of the mailbox (the first is `h`), up to `budget`, while
 * nothing else is due: the same turns as runTurns's, with what only asks, async handlers and
 * observed turns need left out. `inHandler` stays true from one handler to the next (nothing
 * else runs in between), and is false whenever other code runs. Returns the turns run (at least one).
 */
function runSyncTells(cell: Cell, first: BoundMessage, budget: number): number {
  const mailbox = cell.mailbox;
  const dispatcher = cell.core.dispatcher;
  // The same for the whole run: a new ctx comes with a new incarnation, which a system message
  // (ending the run) or a crash (returning) brings.
  const ctx = cell.ctx as HandlerContext;
  let h = first;
  let n = 0;
  cell.flags |= IN_HANDLER;
  for (;;) {
    n++;
    const input = mailbox.headInput();
    let result: unknown;
    try {
      result = h.fn(cell.state, input, ctx);
    } catch (e) {
      cell.flags &= ~IN_HANDLER;
      headThrew(cell, null, h, input, e);
      return n;
    }
    // The chain link made for this turn, if its handler asked someone.
    const link = cell.running;
    if (link !== null) cell.running = null;
    mailbox.shiftTell();
    if (result !== null && typeof result === 'object') {
      cell.flags &= ~IN_HANDLER;
      if (typeof (result as PromiseLike<unknown>).then === 'function') {
        awaitTurn(cell, h, link ?? new TellTurn(h, input, cell), result as PromiseLike<unknown>);
        if (cell.waiters !== null && cell.waiters.length > 0) admit(cell);
        return n;
      }
      // A tell's handler may replace the state (`become`); there is no reply.
      if (isBecome(result)) cell.state = result.state;
      cell.flags |= IN_HANDLER;
    }
    if (link !== null) link.done = true;
    // Senders waiting for room and system messages are kept with the rare parts: one test while
    // an actor has none.
    const rare = cell.rare;
    if (rare !== null) {
      if (rare.waiters !== null && rare.waiters.length > 0) {
        cell.flags &= ~IN_HANDLER;
        admit(cell);
        return n;
      }
      if (rare.sys !== null) break;
    }
    if (n >= budget || mailbox.length === 0 || dispatcher.yieldRequested || (cell.flags & BUSY) !== 0 || cell.status !== RUNNING) break;
    const next = mailbox.headMsg() as BoundMessage;
    if (mailbox.headAsk() !== null || next.mode === ASYNC) break;
    h = next;
  }
  cell.flags &= ~IN_HANDLER;
  return n;
}

/**
 * The turn whose handler is running synchronously: its ask (still at the mailbox head), or for
 * a tell a link made now (tells allocate nothing until a handler asks someone).
 */
export function runningTurn(cell: Cell): MessageTurn | null {
  if (!cell.inHandler) return null;
  const mailbox = cell.mailbox;
  const h = mailbox.headMsg();
  if (h === undefined) return null;
  const ask = mailbox.headAsk();
  if (ask !== null) return ask;
  cell.running ??= new TellTurn(h, mailbox.headInput(), cell);
  return cell.running;
}

/** The ask whose handler is running synchronously, or null (a tell). */
export function runningAsk(cell: Cell): ReplyChannel | null {
  return cell.inHandler ? cell.mailbox.headAsk() : null;
}

// The closures of the async path live in their own methods: a closure in runSome would make V8
// allocate a context for its locals on every call.
export function callAsync(cell: Cell, h: BoundMessage, input: unknown, turn: MessageTurn): unknown {
  return runAsync(turn, () => h.fn(cell.state, input, cell.ctx as HandlerContext));
}

export function awaitTurn(cell: Cell, h: BoundMessage, turn: MessageTurn, result: PromiseLike<unknown>): void {
  // Learn it: later turns of this handler run under AsyncLocalStorage to keep the call chain.
  h.learnAsync();
  cell.busy = true;
  // Only a turn that outlives this call can be fenced (stop, restart, abandon): track it.
  cell.current = turn;
  // The steward's sweep looks at actors in the middle of a turn only, from the turn's start.
  cell.hbAt = smallMs(cell.core.clock.now());
  cell.parent?.inTurn.add(cell);
  result.then(
    (v) => asyncTurnEnded(cell, turn, v, false),
    (e) => asyncTurnEnded(cell, turn, e, true),
  );
}

export function asyncTurnEnded(cell: Cell, turn: MessageTurn, value: unknown, threw: boolean): void {
  // A fenced turn belongs to an incarnation that is gone: its outcome reaches no one.
  if (turn.fenced) {
    const rare = rareOf(cell);
    if (--rare.zombies === 0) cell.gate &= ~GATE_ZOMBIE;
    return;
  }
  cell.busy = false;
  const observer = cell.core.observer;
  if (observer !== null && cell.rare !== null && cell.rare.turnStart !== 0) {
    observer.observe(cell.def.name, turn.msg.name, performance.now() - cell.rare.turnStart);
    cell.rare.turnStart = 0;
  }
  if (threw) turnThrew(cell, turn, value);
  else turnReturned(cell, turn, value);
  if (cell.ready) cell.core.dispatcher.schedule(cell);
  else if (cell.core.draining) cell.core.noteIdle();
}

export function endTurn(cell: Cell, turn: MessageTurn): void {
  turn.done = true;
  if (cell.current !== null) {
    cell.current = null;
    cell.parent?.inTurn.delete(cell);
  }
}
