// What inspection shows of an actor: its summary (.actors), its snapshot with state and restart
// history (.inspect), its node in the supervision tree (.tree), and whether it is quiet (the drain).
import { toError } from '../../errors.js';
import type { ActorSnapshot, ActorSummary, ChildActorSnapshot } from '../../inspection.js';
import { toJSONSafe } from '../toJSONSafe.js';
import type { Cell } from './Cell.js';
import { durableInfo } from './durable.js';
import { STOPPED } from './parts.js';

export function summaryOf(cell: Cell): ActorSummary {
  return {
    id: cell.id,
    type: cell.def.name,
    steward: cell.parent?.id ?? 'root',
    host: cell.rare?.host ? (cell.rare.host.describe?.(cell.id) ?? cell.rare.host.name) : 'main',
    lastTurnAt: cell.lastTurnAt === 0 ? null : cell.core.wall.base + cell.lastTurnAt,
    status: cell.statusName,
    mailbox: cell.mailbox.length,
    waiting: cell.waiters?.length ?? 0,
    capacity: cell.opts.capacity,
    overflow: cell.opts.overflow,
    turns: cell.turns,
    restarts: cell.restarts,
    incarnation: cell.incarnation,
    busy: cell.busy,
    deferred: cell.rare?.deferred?.size ?? 0,
    dropped: cell.dropped,
  };
}

export function snapshotOf(cell: Cell): ActorSnapshot {
  const inspect = cell.def.behaviour.inspect;
  let state: unknown;
  try {
    state = inspect === undefined ? toJSONSafe(cell.state) : toJSONSafe(inspect.call(cell.def.behaviour, cell.state));
  } catch (e) {
    state = { error: `inspect failed: ${toError(e).message}` };
  }
  const durable = durableInfo(cell);
  return { ...summaryOf(cell), state, history: [...(cell.rare?.record?.history ?? [])], ...(durable !== null && { durable }) };
}

/** This actor as a node of the supervision tree. */
export function treeEntryOf(cell: Cell): ChildActorSnapshot {
  return {
    kind: 'actor',
    id: cell.id,
    type: cell.def.name,
    status: cell.statusName,
    restart: cell.opts.restart,
    incarnation: cell.incarnation,
    restarts: cell.restarts,
    history: [...(cell.rare?.record?.history ?? [])],
  };
}

/** True when nothing is queued, running or owed (for the drain). */
export function isQuiet(cell: Cell): boolean {
  return (
    (cell.status === STOPPED || (!cell.busy && cell.mailbox.length === 0 && (cell.waiters?.length ?? 0) === 0 && (cell.rare?.deferred?.size ?? 0) === 0)) &&
    (cell.durable === null || !cell.durable.pending)
  );
}
