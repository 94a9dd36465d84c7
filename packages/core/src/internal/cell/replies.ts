// Settling reply channels: the reply a turn returns (checked against its schema when enabled),
// the turn that threw (a business refusal, or a crash), deferred replies (`ctx.defer()`) that
// settle after their turn, asks that time out, and answers that come too late.
import { isBecome } from '../../defineActor.js';
import { AskTimeout, InvalidReply, isHoldfastError, toError } from '../../errors.js';
import { type MessageTurn, ReplyChannel } from '../ReplyChannel.js';
import type { Cell } from './Cell.js';
import { crash, reportError } from './lifecycle.js';
import { rareOf } from './parts.js';
import { endTurn } from './turns.js';

export function onSettled(cell: Cell, env: ReplyChannel): void {
  cell.core.deadlines.done(env);
  if (env.extra !== null || env.deferred) settledRare(cell, env);
}

/** The rest of settling, for asks with a signal or a deferred reply. */
export function settledRare(cell: Cell, env: ReplyChannel): void {
  const extra = env.extra;
  if (extra !== null && extra.onAbort !== null) {
    (extra.signal as AbortSignal).removeEventListener('abort', extra.onAbort);
    extra.onAbort = null;
  }
  if (env.deferred) {
    cell.rare?.deferred?.delete(env);
    // A reply owed after its turn was the last work of this actor: the drain may be done.
    if (cell.core.draining) cell.core.noteIdle();
  }
}

export function onExpired(cell: Cell, env: ReplyChannel): void {
  cell.core.counters.timeouts++;
  env.failWith(new AskTimeout(cell.id, env.msg.name, env.bucket?.lane.timeoutMs ?? 0));
}

export function onLate(cell: Cell, env: ReplyChannel): void {
  cell.core.counters.lateReplies++;
  cell.core.emit({ type: 'late-reply', actor: cell.id, actorType: cell.def.name, message: env.msg.name, at: cell.core.clock.now() });
}

export function deliverDeferred(cell: Cell, env: ReplyChannel, value: unknown): boolean {
  if (env.settled) {
    onLate(cell, env);
    return false;
  }
  return sendReply(cell, env, value, false);
}

export function failDeferred(_cell: Cell, env: ReplyChannel, error: unknown): boolean {
  return env.failWith(isHoldfastError(error) ? error : toError(error));
}

export function turnReturned(cell: Cell, env: MessageTurn, result: unknown): void {
  endTurn(cell, env);
  let reply = result;
  if (reply !== null && typeof reply === 'object' && isBecome(reply)) {
    cell.state = reply.state;
    reply = reply.reply;
  }
  if (!env.isAsk || (env as ReplyChannel).deferred) return;
  sendReply(cell, env as ReplyChannel, reply, true);
}

/** Check (when enabled) and deliver a reply. A reply that fails its schema crashes the turn. */
export function sendReply(cell: Cell, env: ReplyChannel, value: unknown, inTurn: boolean): boolean {
  const schema = env.msg.reply;
  if (schema === undefined) return env.succeed(undefined);
  if (cell.opts.validateReply) {
    const r = schema.safeParse(value);
    if (!r.success) {
      const err = new InvalidReply({ actor: cell.id, message: env.msg.name, issues: r.error.issues });
      if (inTurn) {
        crash(cell, env, err, 'invalid-reply');
      } else {
        // A deferred reply comes after its turn: fail its caller, but do not restart the actor
        // in the middle of whatever turn is running now.
        env.failWith(err);
        reportError(cell, `deferred reply to '${env.msg.name}'`, err);
      }
      return false;
    }
  }
  return env.succeed(value);
}

export function turnThrew(cell: Cell, env: MessageTurn, thrown: unknown): void {
  endTurn(cell, env);
  if (isHoldfastError(thrown, 'REJECTED')) {
    // A business refusal: the state is kept and the actor goes on.
    if (env instanceof ReplyChannel) {
      if (!env.settled) env.failWith(thrown);
    } else {
      cell.core.emit({
        type: 'error',
        actor: cell.id,
        actorType: cell.def.name,
        incarnation: cell.incarnation,
        where: `tell '${env.msg.name}' rejected`,
        error: thrown,
        at: cell.core.clock.now(),
      });
      cell.log.warn({ message: env.msg.name, err: thrown }, 'tell rejected');
    }
    return;
  }
  crash(cell, env, toError(thrown), 'threw');
}

export function trackDeferred(cell: Cell, env: ReplyChannel): void {
  (rareOf(cell).deferred ??= new Set()).add(env);
}
