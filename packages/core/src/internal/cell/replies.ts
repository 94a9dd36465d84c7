// Settling reply channels: the reply a turn returns (checked against its schema when enabled),
// the turn that threw (a business refusal, or a crash), deferred replies (`ctx.defer()`) that
// settle after their turn, asks that time out, and answers that come too late.
import { isBecome } from '../../defineActor.js';
import { AskTimeout, InvalidReply, isHoldfastError, toError } from '../../errors.js';
import { type MessageTurn, ReplyChannel } from '../ReplyChannel.js';
import type { Cell } from './Cell.js';
import { holdDeferred } from './durable.js';
import { crash, reportError } from './lifecycle.js';
import { rareOf } from './parts.js';
import { endTurn } from './turns.js';

export function onSettled(cell: Cell, channel: ReplyChannel): void {
  cell.core.deadlines.done(channel);
  if (channel.extra !== null || channel.deferred) settledRare(cell, channel);
}

/** The rest of settling, for asks with a signal or a deferred reply. */
export function settledRare(cell: Cell, channel: ReplyChannel): void {
  const extra = channel.extra;
  if (extra !== null && extra.onAbort !== null) {
    (extra.signal as AbortSignal).removeEventListener('abort', extra.onAbort);
    extra.onAbort = null;
  }
  if (channel.deferred) {
    cell.rare?.deferred?.delete(channel);
    // A reply owed after its turn was the last work of this actor: the drain may be done.
    if (cell.core.draining) cell.core.noteIdle();
  }
}

export function onExpired(cell: Cell, channel: ReplyChannel): void {
  cell.core.counters.timeouts++;
  channel.failWith(new AskTimeout(cell.id, channel.msg.name, channel.bucket?.lane.timeoutMs ?? 0));
}

export function onLate(cell: Cell, channel: ReplyChannel): void {
  cell.core.counters.lateReplies++;
  cell.core.emit({ type: 'late-reply', actor: cell.id, actorType: cell.def.name, message: channel.msg.name, at: cell.core.clock.now() });
}

export function deliverDeferred(cell: Cell, channel: ReplyChannel, value: unknown): boolean {
  if (channel.settled) {
    onLate(cell, channel);
    return false;
  }
  // A durable actor's reply waits behind its uncommitted state.
  if (cell.durable?.pending === true) return holdDeferred(cell, channel, value);
  return sendReply(cell, channel, value, false);
}

export function failDeferred(_cell: Cell, channel: ReplyChannel, error: unknown): boolean {
  return channel.failWith(isHoldfastError(error) ? error : toError(error));
}

export function turnReturned(cell: Cell, turn: MessageTurn, result: unknown): void {
  endTurn(cell, turn);
  let reply = result;
  if (reply !== null && typeof reply === 'object' && isBecome(reply)) {
    cell.state = reply.state;
    reply = reply.reply;
  }
  if (!turn.isAsk || (turn as ReplyChannel).deferred) return;
  sendReply(cell, turn as ReplyChannel, reply, true);
}

/** Check (when enabled) and deliver a reply. A reply that fails its schema crashes the turn. */
export function sendReply(cell: Cell, channel: ReplyChannel, value: unknown, inTurn: boolean): boolean {
  const msg = channel.msg;
  if (msg.reply === undefined) return channel.succeed(undefined);
  if (cell.opts.validateReply) {
    const issues = msg.replyIssues(value);
    if (issues !== null) {
      const err = new InvalidReply({ actor: cell.id, message: msg.name, issues });
      if (inTurn) {
        crash(cell, channel, err, 'invalid-reply');
      } else {
        // A deferred reply comes after its turn: fail its caller, but do not restart the actor
        // in the middle of whatever turn is running now.
        channel.failWith(err);
        reportError(cell, `deferred reply to '${msg.name}'`, err);
      }
      return false;
    }
  }
  return channel.succeed(value);
}

export function turnThrew(cell: Cell, turn: MessageTurn, thrown: unknown): void {
  endTurn(cell, turn);
  if (isHoldfastError(thrown, 'REJECTED')) {
    // A business refusal: the state is kept and the actor goes on.
    if (turn instanceof ReplyChannel) {
      if (!turn.settled) turn.failWith(thrown);
    } else {
      cell.core.emit({
        type: 'error',
        actor: cell.id,
        actorType: cell.def.name,
        incarnation: cell.incarnation,
        where: `tell '${turn.msg.name}' rejected`,
        error: thrown,
        at: cell.core.clock.now(),
      });
      cell.log.warn({ message: turn.msg.name, err: thrown }, 'tell rejected');
    }
    return;
  }
  crash(cell, turn, toError(thrown), 'threw');
}

export function trackDeferred(cell: Cell, channel: ReplyChannel): void {
  (rareOf(cell).deferred ??= new Set()).add(channel);
}
