// The drain: how a system shuts down. Outside senders are refused at once (SHUTTING_DOWN, dead
// letters) while queued and in-flight work finishes, and asks that this work makes are still
// served; then every actor stops in reverse spawn order, and the actor hosts close.
import type { ActorHost } from '../ActorHost.js';
import type { ShutdownReport, SystemStatus } from '../createSystem.js';
import { toError } from '../errors.js';
import type { Cell } from './cell/Cell.js';
import type { Durability } from './durable/Durability.js';
import type { IdRegistry } from './IdRegistry.js';
import type { StewardNode } from './StewardNode.js';
import type { SystemCore } from './SystemCore.js';

/** What the drain works on: a system's insides. */
export interface DrainParts {
  readonly core: SystemCore;
  readonly cells: IdRegistry<Cell>;
  readonly root: StewardNode;
  readonly hosts: Set<ActorHost>;
  readonly durability: Durability | null;
  /** In a cluster: hand every shard over and leave, before the drain (the system still serves meanwhile). */
  readonly leave: (() => Promise<void>) | null;
  /** In a cluster: disconnect, once everything here stopped and was committed. */
  readonly disconnect: (() => Promise<void>) | null;
  setStatus(status: SystemStatus): void;
  stopWallClock(): void;
}

/**
 * `system.shutdown()`: refuse outside senders, wait until every actor is quiet (or the deadline),
 * stop every actor in reverse spawn order (abandoning what still runs), close the actor hosts.
 */
export async function drainAndStop(parts: DrainParts, timeoutMs: number): Promise<ShutdownReport> {
  const { core, root, hosts } = parts;
  const clock = core.clock;
  const started = clock.now();
  if (parts.leave !== null) {
    try {
      await parts.leave();
    } catch (e) {
      core.logger.error({ err: toError(e) }, 'leaving the cluster failed; draining anyway');
    }
  }
  parts.setStatus('draining');
  core.draining = true;
  parts.cells.forEach((cell) => {
    cell.closeGate();
  });
  core.logger.info({ actors: parts.cells.size, timeoutMs }, 'draining');
  const quiet = await new Promise<boolean>((resolve) => {
    const timer = clock.setTimeout(() => {
      core.idleCheck = null;
      resolve(false);
    }, timeoutMs);
    core.idleCheck = () => {
      if (!allQuiet(parts.cells)) return;
      core.idleCheck = null;
      clock.clearTimeout(timer);
      resolve(true);
    };
    core.noteIdle();
  });
  const unfinished = quiet
    ? []
    : parts.cells
        .values()
        .reverse()
        .filter((c) => !c.quiet)
        .map((c) => ({ id: c.id, type: c.def.name, mailbox: c.mailbox.length, busy: c.busy, deferred: c.summary().deferred }));
  if (!quiet) core.logger.warn({ unfinished }, 'drain deadline passed; abandoning unfinished work');
  await root.shutdown((cell) => (cell.quiet ? cell.requestStop('shutdown') : cell.abandon()));
  for (const host of hosts) {
    try {
      await host.close();
    } catch (e) {
      core.logger.error({ err: toError(e), host: host.name }, 'closing an actor host failed');
      core.emit({ type: 'error', actor: host.name, actorType: 'host', incarnation: 0, where: 'host close', error: toError(e), at: clock.now() });
    }
  }
  // Every turn that ran has its state committed and its outputs released before the store closes.
  if (parts.durability !== null) await parts.durability.close();
  if (parts.disconnect !== null) {
    try {
      await parts.disconnect();
    } catch (e) {
      core.logger.error({ err: toError(e) }, 'disconnecting from the cluster failed');
    }
  }
  core.deadlines.close();
  parts.stopWallClock();
  parts.setStatus('stopped');
  const durationMs = clock.now() - started;
  core.logger.info({ clean: quiet, durationMs }, 'stopped');
  return { clean: quiet, unfinished, durationMs };
}

function allQuiet(cells: IdRegistry<Cell>): boolean {
  return cells.every((cell) => cell.quiet);
}
