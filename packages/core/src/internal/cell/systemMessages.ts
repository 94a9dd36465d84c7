// System messages: stop, restart, inspect, exit and end, asked for from outside the actor (or by
// ctx.stop()) and run at the next turn boundary, ahead of user messages. A stop never waits
// forever on a turn that does not end: past stopTimeoutMs the turn is abandoned.
import { ActorStopped, type StopReason } from '../../errors.js';
import type { ActorSnapshot } from '../../inspection.js';
import type { Cell } from './Cell.js';
import { exitNormally, fenceCurrent, reportError, restartNow, stopForGood, terminateIncarnation } from './lifecycle.js';
import { RESTARTING, RUNNING, rareOf, STOPPED, STOPPING, type SystemMessage } from './parts.js';
import { snapshotOf } from './snapshot.js';

/**
 * Stop at the next turn boundary. Resolves once stopped (at once if stopped already). A turn
 * that is still running `stopTimeoutMs` later is abandoned: fenced, its caller failed with
 * `ACTOR_STOPPED`, so that a stop never waits forever on a turn that does not end.
 */
export function requestStop(cell: Cell, reason: StopReason): Promise<void> {
  if (cell.status === STOPPED) return Promise.resolve();
  if (cell.status === STOPPING) return new Promise<void>((done) => (rareOf(cell).stopped ??= []).push(done));
  const stopped = new Promise<void>((done) => postSystem(cell, { kind: 'stop', reason, done }));
  const running = cell.current;
  if (running !== null) {
    const timer = cell.core.clock.setTimeout(() => {
      if (cell.current !== running || cell.status >= STOPPING) return;
      reportError(cell, 'stop', new Error(`turn '${running.msg.name}' of '${cell.id}' did not end within ${cell.opts.stopTimeoutMs} ms; abandoned`));
      fenceCurrent(cell, new ActorStopped(cell.id, reason));
      cell.busy = false;
      runSystemMessages(cell);
    }, cell.opts.stopTimeoutMs);
    void stopped.then(() => cell.core.clock.clearTimeout(timer));
  }
  return stopped;
}

/** Restart at the next turn boundary, as after a crash but without counting against the intensity. */
export function requestRestart(cell: Cell): Promise<void> {
  if (cell.status >= STOPPING) return Promise.reject(new ActorStopped(cell.id, cell.stopReason));
  return new Promise<void>((done) => postSystem(cell, { kind: 'restart', done }));
}

/** The state as `inspect` shows it, read between turns. */
export function requestInspect(cell: Cell): Promise<ActorSnapshot> {
  if (!cell.busy && cell.status !== STOPPING) return Promise.resolve(snapshotOf(cell));
  return new Promise<ActorSnapshot>((done) => postSystem(cell, { kind: 'inspect', done }));
}

/** end this actor normally after the current turn. */
export function requestExit(cell: Cell): void {
  postSystem(cell, { kind: 'exit' });
}

export function postSystem(cell: Cell, m: SystemMessage): void {
  (cell.sys ??= []).push(m);
  if (!cell.busy) cell.core.dispatcher.schedule(cell);
}

export function runSystemMessages(cell: Cell): void {
  while (cell.sys !== null && (!cell.busy || cell.status === RESTARTING)) {
    const m = cell.sys.shift() as SystemMessage;
    if (cell.sys.length === 0) cell.sys = null;
    switch (m.kind) {
      case 'inspect':
        m.done(snapshotOf(cell));
        break;
      case 'stop':
        if (cell.status === STOPPED) m.done();
        else {
          (rareOf(cell).stopped ??= []).push(m.done);
          void stopForGood(cell, m.reason, null);
        }
        break;
      case 'restart':
        // Down already (its steward restarts it) or gone: nothing to do.
        if (cell.status >= RESTARTING) m.done();
        else void restartNow(cell).then(m.done);
        break;
      case 'end':
        void terminateIncarnation(cell, m.reason, null).then(m.done);
        break;
      case 'exit':
        exitNormally(cell);
        break;
      default:
        m satisfies never;
    }
  }
}

/**
 * @internal End the incarnation at the next turn boundary (at once when no turn runs or the
 * actor is down), keeping the mailbox: how an actor host carries out a stop or restart asked
 * for from outside, which lets the running turn finish.
 */
export function endAtBoundary(cell: Cell, reason: StopReason): Promise<void> {
  if (cell.status !== RUNNING || !cell.busy) return terminateIncarnation(cell, reason, null);
  return new Promise<void>((done) => postSystem(cell, { kind: 'end', reason, done }));
}
