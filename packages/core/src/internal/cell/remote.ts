// Sends to an actor served by another node of the cluster: its cell here is a stand-in (or an
// actor of a shard being handed over), whose gate has GATE_REMOTE. An ask gets a reply channel
// here, as any ask does (deadline, cancellation, late replies counted), and travels through the
// cluster; the reply is checked against the protocol's reply schema when it comes back. A
// stand-in retired because the shard came to this node wakes the actor here instead.
import type { RemoteCall } from '../../cluster.js';
import type { CompiledMessage } from '../../defineProtocol.js';
import { InvalidReply, isHoldfastError, ShuttingDown, toError } from '../../errors.js';
import type { AskOptions } from '../../options.js';
import { currentTurn, type Turn } from '../callChain.js';
import type { Placement } from '../cluster/Placement.js';
import { promiseFor, ReplyChannel } from '../ReplyChannel.js';
import { askQueued, checkOptions, deadLetter, refuseSendKey, sendWaiting, tellQueued, watchSignal } from './admission.js';
import type { Cell } from './Cell.js';
import { STOPPING } from './parts.js';

/** The cell that takes a send to `cell` now: itself, or the one that replaced a retired stand-in. */
function current(cell: Cell): Cell | Error {
  if (cell.status < STOPPING) return cell;
  return cell.core.wake(cell);
}

export function remoteAsk(cell: Cell, msg: CompiledMessage, input: unknown, options: AskOptions | undefined, turn: Turn | null): Promise<unknown> {
  const core = cell.core;
  const target = current(cell);
  if (target instanceof Error) {
    core.counters.asks++;
    return Promise.reject(target);
  }
  if (target !== cell) return askQueued(target, msg, input, options, turn);
  core.counters.asks++;
  if (core.draining && turn === null) return Promise.reject(new ShuttingDown(core.name));
  let timeoutMs = cell.opts.askTimeoutMs;
  let signal: AbortSignal | undefined;
  if (options !== undefined) {
    const refused = checkOptions(cell, msg, options);
    if (refused !== null) return Promise.reject(refused);
    timeoutMs = options.timeoutMs ?? timeoutMs;
    signal = options.signal;
  }
  const channel = new ReplyChannel(msg, input, cell, turn);
  const promise = promiseFor(channel);
  core.deadlines.add(channel, timeoutMs);
  if (signal !== undefined) watchSignal(cell, channel, signal);
  const placement = core.placement as Placement;
  placement.remoteAsks++;
  // The caller's own signal (or none): a local deadline needs no cancelling, the owner has the same one.
  settleRemote(
    cell,
    msg,
    channel,
    placement.cluster.request(placement.shardOf(cell.id), callOf(cell, msg, input, options?.idempotencyKey), timeoutMs, signal ?? null),
  );
  return promise;
}

/** The call that carries an ask to `cell`'s actor to its node. */
function callOf(cell: Cell, msg: CompiledMessage, input: unknown, key: string | undefined): RemoteCall {
  return {
    type: cell.def.name,
    id: cell.id,
    message: msg.name,
    input,
    ...(key !== undefined && { idempotencyKey: key }),
    ...((key !== undefined || msg.readonly) && { retryable: true }),
  };
}

/** Settle `channel` with what the owning node answered: its reply checked by the protocol, or its coded error. */
function settleRemote(cell: Cell, msg: CompiledMessage, channel: ReplyChannel, answer: Promise<unknown>): void {
  answer.then(
    (value) => {
      if (channel.settled) {
        channel.succeed(value); // counted as late
        return;
      }
      if (msg.reply === undefined) {
        channel.succeed(undefined);
        return;
      }
      const issues = cell.opts.validateReply ? msg.replyIssues(value) : null;
      if (issues === null) channel.succeed(value);
      else channel.failWith(new InvalidReply({ actor: cell.id, message: msg.name, issues }));
    },
    (e: unknown) => {
      if (!channel.settled) channel.failWith(isHoldfastError(e) ? e : toError(e));
    },
  );
}

export function remoteTell(cell: Cell, msg: CompiledMessage, input: unknown): void {
  const core = cell.core;
  const target = current(cell);
  if (target instanceof Error) {
    deadLetter(cell, msg.name, input, 'stopped', false);
    return;
  }
  if (target !== cell) {
    tellQueued(target, msg, input);
    return;
  }
  if (core.draining && currentTurn() === null) {
    deadLetter(cell, msg.name, input, 'shutting-down', false);
    return;
  }
  const placement = core.placement as Placement;
  placement.cluster.tell(placement.shardOf(cell.id), callOf(cell, msg, input, undefined), cell.opts.askTimeoutMs);
}

/** `send` to a remote actor: resolves once the owner queued it (waiting for room there, as `send` does). */
export function remoteSend(cell: Cell, msg: CompiledMessage, input: unknown, options: AskOptions | undefined): Promise<void> {
  const core = cell.core;
  const target = current(cell);
  if (target instanceof Error) return Promise.reject(target);
  if (target !== cell) return sendWaiting(target, msg, input, options);
  if (core.draining && currentTurn() === null) return Promise.reject(new ShuttingDown(core.name));
  if (options !== undefined) {
    const refused = refuseSendKey(msg, options) ?? checkOptions(cell, msg, options);
    if (refused !== null) return Promise.reject(refused);
  }
  const timeoutMs = options?.timeoutMs ?? cell.opts.askTimeoutMs;
  const signal = options?.signal ?? null;
  const placement = core.placement as Placement;
  return placement.cluster
    .request(placement.shardOf(cell.id), { type: cell.def.name, id: cell.id, message: msg.name, input, send: true }, timeoutMs, signal)
    .then(() => undefined);
}
