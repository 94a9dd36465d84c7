// Timers (ctx.schedule) and heartbeats (ctx.heartbeat), shared by handlers' and hooks' contexts.
// A timer belongs to its incarnation: it tells the actor through its mailbox, and a stop or a
// restart cancels it.
import type { TimerHandle } from '../../Clock.js';
import { checkKeys } from '../../checkKeys.js';
import type { ScheduleWhen } from '../../defineActor.js';
import { type CompiledMessage, messageIn, Refused } from '../../defineProtocol.js';
import { InvalidArgument, InvalidMessage } from '../../errors.js';
import { SCHEDULE_KEYS } from '../optionKeys.js';
import { smallMs } from '../smallInt.js';
import { deadLetter } from './admission.js';
import type { Cell } from './Cell.js';
import { rareOf, STOPPING } from './parts.js';

/** For schedule's option errors (made only when there is one). */
const scheduleWhere = (message: string): string => `schedule '${message}'`;

/** a timer that tells this incarnation `msg`. */
export function scheduleTimer(cell: Cell, msg: CompiledMessage, input: unknown, when: ScheduleWhen, incarnation: number): () => void {
  checkKeys(scheduleWhere, when, SCHEDULE_KEYS, msg.name);
  const afterMs = 'everyMs' in when ? (when.afterMs ?? when.everyMs) : when.afterMs;
  const everyMs = 'everyMs' in when ? when.everyMs : undefined;
  if (!(afterMs >= 0) || !Number.isFinite(afterMs) || (everyMs !== undefined && (!(everyMs > 0) || !Number.isFinite(everyMs)))) {
    throw new InvalidArgument(`schedule: afterMs must be >= 0 and everyMs > 0, got ${JSON.stringify(when)}`);
  }
  if (cell.opts.validateInput) {
    const value = msg.checkInput(input);
    if (value instanceof Refused) throw new InvalidMessage({ actor: cell.id, message: msg.name, issues: value.issues });
    input = value;
  }
  if (incarnation !== cell.incarnation || cell.status >= STOPPING) return () => {};
  const clock = cell.core.clock;
  const rare = rareOf(cell);
  const timers = (rare.timers ??= new Set());
  let handle: TimerHandle;
  let cancelled = false;
  const fire = () => {
    timers.delete(handle);
    if (cancelled || incarnation !== cell.incarnation) return;
    if (cell.core.draining) {
      deadLetter(cell, msg.name, input, 'shutting-down', false);
      return;
    }
    cell.tell(msg, input);
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

/** `ctx.schedule(message, input, when)` of a context of incarnation `incarnation`. */
export function scheduleFrom(cell: Cell, message: string, input: unknown, when: ScheduleWhen, incarnation: number, fenced: boolean): () => void {
  const msg = messageIn(cell.table, message);
  if (msg === undefined) throw InvalidMessage.unknownMessage(cell.id, cell.def.protocol.name, message);
  if (fenced) return () => {};
  return scheduleTimer(cell, msg, input, when, incarnation);
}

/** `ctx.heartbeat()`: progress in a long turn. A turn that beats is a long one: the dispatcher yields to the event loop after it. */
export function beat(cell: Cell): void {
  cell.hbAt = smallMs(cell.core.clock.now());
  cell.core.dispatcher.yieldRequested = true;
  cell.core.progress?.();
}
