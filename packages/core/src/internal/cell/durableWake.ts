import { ActorStopped, StateInvalid, toError } from '../../errors.js';
import { KeptReplies } from '../durable/KeptReplies.js';
import { contextFor } from '../HandlerContext.js';
import { deadLetter } from './admission.js';
import type { Cell } from './Cell.js';
import { checkState, type DurableSlot } from './durableSlot.js';
import { restarted, startIncarnation, stopForGood } from './lifecycle.js';
import { rareOf, STARTING, STOPPING } from './parts.js';

/**
 * Wake `cell` (new, or restarting after a crash): load its row, migrate and check it, or run
 * `init` when nothing is stored; then start the incarnation. Messages wait in the mailbox.
 */
export function wakeCell(cell: Cell, restarting: boolean): void {
  const slot = cell.durable as DurableSlot;
  cell.status = STARTING;
  cell.busy = true;
  if (!restarting) {
    cell.ctx = contextFor(cell);
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
      if (restarting) restarted(cell);
      else startIncarnation(cell);
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
  slot.replies = row?.replies === undefined ? null : new KeptReplies(slot.spec.keepReplies, row.replies);
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

export function restartDurable(cell: Cell): void {
  rareOf(cell);
  wakeCell(cell, true);
}
