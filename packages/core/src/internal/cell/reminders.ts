// Durable reminders, the actor's side: `ctx.remind()` and `ctx.cancelReminder()` record a change
// in the turn's durable slot, written with the turn's state (so a reminder exists only once the
// turn that set it is committed); a delivered reminder is removed by the commit of the turn that
// handles it (at least once: a turn that crashes leaves it to be delivered again). The system's
// side — finding due reminders and delivering them — is in durable/Durability.ts.
import type { RemindWhen } from '../../defineActor.js';
import { type CompiledMessage, messageIn, Refused } from '../../defineProtocol.js';
import { InvalidArgument, InvalidMessage } from '../../errors.js';
import type { Cell } from './Cell.js';
import type { DurableSlot } from './durableSlot.js';

const MAX_NAME = 200;

function slotFor(cell: Cell, running: CompiledMessage | null, what: string): DurableSlot {
  const slot = cell.durable;
  if (slot === null) throw new InvalidArgument(`actor '${cell.id}': ${what} needs a durable actor (use ctx.schedule() for timers of this incarnation)`);
  if (running === null) throw new InvalidArgument(`actor '${cell.id}': ${what} is for the turn running now; call it while the handler runs`);
  if (running.readonly) throw new InvalidArgument(`actor '${cell.id}': ${what} writes, and '${running.name}' is a read-only message`);
  return slot;
}

function checkName(cell: Cell, name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME)
    throw new InvalidArgument(`actor '${cell.id}': a reminder's name must be a string of 1 to ${MAX_NAME} characters`);
}

/** `ctx.remind(name, when, message, input)`. */
export function remindFrom(cell: Cell, running: CompiledMessage | null, name: string, when: RemindWhen, message: string, input: unknown): void {
  const slot = slotFor(cell, running, 'ctx.remind()');
  checkName(cell, name);
  const msg = messageIn(cell.table, message);
  if (msg === undefined) throw InvalidMessage.unknownMessage(cell.id, cell.def.protocol.name, message);
  const checked = msg.checkInput(input);
  if (checked instanceof Refused) throw new InvalidMessage({ actor: cell.id, message, issues: checked.issues });
  const at = dueAt(cell, when);
  // The caller's input is stored (JSON): it is checked again when delivered.
  (slot.reminderOps ??= new Map()).set(name, { name, at, message, input: input ?? null });
}

/** `ctx.cancelReminder(name)`. */
export function cancelReminderFrom(cell: Cell, running: CompiledMessage | null, name: string): void {
  const slot = slotFor(cell, running, 'ctx.cancelReminder()');
  checkName(cell, name);
  (slot.reminderOps ??= new Map()).set(name, { name, at: null });
}

function dueAt(cell: Cell, when: RemindWhen): number {
  if (typeof when === 'object' && when !== null) {
    if ('afterMs' in when) {
      const ms = when.afterMs;
      if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) return Date.now() + Math.round(ms);
    } else if ('at' in when) {
      const at = when.at instanceof Date ? when.at.getTime() : when.at;
      if (typeof at === 'number' && Number.isFinite(at)) return Math.round(at);
    }
  }
  throw new InvalidArgument(`actor '${cell.id}': ctx.remind() takes { afterMs: ms >= 0 } or { at: Date | ms since the epoch }`);
}
