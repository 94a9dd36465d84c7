import { join } from 'node:path';
import { type ActorSystem, createSystem, fromPino, type ShutdownReport } from '@holdfast/core';
import type { Disposer, ServiceDefinition } from './defineService.js';
import { startAdminServer } from './internal/adminServer.js';
import { privateSocketDir, pruneServiceSockets, startDebugServer } from './internal/debugServer.js';
import { createLogger } from './internal/logging.js';
import { ServiceMetrics } from './internal/metrics.js';
import { type Settings, SettingsError } from './settings.js';

function hostPort(v: string): { host: string; port: number } {
  const i = v.lastIndexOf(':');
  return { host: v.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(v.slice(i + 1)) };
}

/** Exit codes of `holdfast run`. */
export const ExitCode = {
  /** Drained cleanly. */
  OK: 0,
  /** The drain did not finish in time, the root steward gave up (fatal), or start failed. */
  FAILED: 1,
  /** Bad settings or usage: nothing was started. */
  USAGE: 2,
  /** A second signal forced the exit during the drain. */
  FORCED: 130,
} as const;

/** A running service. */
export interface RunningService {
  readonly system: ActorSystem;
  /** The admin listener's URL, or null when it is off. */
  readonly adminUrl: string | null;
  /** The debug socket's path, or null when it is off. */
  readonly debugSocket: string | null;
  /** Begin the drain (as SIGTERM does). Resolves with the exit code once it is over. */
  stop(reason?: string): Promise<number>;
  /** Resolves with the exit code once the service has stopped. */
  readonly done: Promise<number>;
}

/**
 * Start a service: the logger, the system, the admin listener, the debug socket, then the
 * service's own `start`. `stop()` drains: readiness turns off, the `draining` signal aborts, the
 * system refuses outside asks while queued and in-flight work finishes, actors stop in reverse
 * start order, then the front's disposer runs and the listeners close.
 *
 * `holdfast run` calls this and wires SIGTERM/SIGINT to `stop()`; tests may call it directly.
 */
export async function runService<C>(definition: ServiceDefinition<C>, config: unknown, settings: Settings): Promise<RunningService> {
  const parsed = definition.config.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.join('.') ?? '';
    const given = key === '' ? config : (config as Record<string, unknown>)[key];
    throw new SettingsError(`invalid config ${key || '(root)'}=${JSON.stringify(given)} for service '${definition.name}': ${issue?.message ?? 'invalid'}`);
  }
  const { logger, close: closeLogs } = createLogger(definition.name, settings.logLevel, settings.pretty ?? process.stdout.isTTY === true);
  const metrics = new ServiceMetrics(definition.name);
  const system = createSystem({
    name: definition.name,
    logger: fromPino(logger),
    drainTimeoutMs: settings.drainTimeoutMs,
    turnObserver: metrics.observer,
  });
  metrics.bind(system);
  const draining = new AbortController();
  let ready = false;
  let stopping: Promise<number> | null = null;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => {
    resolveDone = r;
  });

  const admin = settings.admin ? await startAdminServer(settings.adminHost, settings.adminPort, { ready: () => ready, metrics: () => metrics.text() }) : null;
  const debug = settings.debug
    ? await startDebugServer(system, {
        socket: settings.debugSocket ?? defaultSocket(definition.name),
        tcp: settings.debugTcp === undefined ? null : { ...hostPort(settings.debugTcp), token: settings.debugToken as string },
        allowEval: settings.allowEval,
        service: definition.name,
      })
    : null;

  let dispose: Disposer | null = null;
  const closeListeners = async () => {
    await admin?.close();
    await debug?.close();
  };
  try {
    dispose =
      (await definition.start({ system, config: parsed.data, log: fromPino(logger.child({ component: 'service' })), draining: draining.signal })) ?? null;
  } catch (e) {
    logger.fatal({ err: e }, 'service start failed');
    await system.shutdown({ timeoutMs: settings.drainTimeoutMs });
    await closeListeners();
    await closeLogs();
    throw e;
  }

  const stop = (reason = 'stop requested'): Promise<number> => {
    stopping ??= (async () => {
      ready = false;
      draining.abort();
      logger.info({ reason, drainTimeoutMs: settings.drainTimeoutMs }, 'draining');
      const report: ShutdownReport = await system.shutdown({ timeoutMs: settings.drainTimeoutMs });
      if (dispose !== null) {
        try {
          await dispose();
        } catch (e) {
          logger.error({ err: e }, 'the front did not close cleanly');
        }
      }
      await closeListeners();
      const fatal = system.fatal;
      const code = report.clean && fatal === null ? ExitCode.OK : ExitCode.FAILED;
      if (!report.clean) {
        logger.error(
          { unfinished: report.unfinished, durationMs: Math.round(report.durationMs) },
          `drain deadline passed: unfinished work in ${report.unfinished.map((u) => u.id).join(', ')}`,
        );
      }
      if (fatal !== null) logger.fatal({ err: fatal }, 'stopped after a fatal supervision failure');
      logger.info({ clean: report.clean, durationMs: Math.round(report.durationMs), exitCode: code }, 'stopped');
      await closeLogs();
      resolveDone(code);
      return code;
    })();
    return stopping;
  };

  system.events.subscribe((e) => {
    if (e.type === 'fatal') void stop(`fatal: ${e.error.message}`);
  });
  ready = true;
  logger.info(
    { service: definition.name, admin: admin?.url ?? null, debugSocket: debug?.socket ?? null, debugTcp: debug?.tcp ?? null, pid: process.pid },
    'service started',
  );
  return { system, adminUrl: admin?.url ?? null, debugSocket: debug?.socket ?? null, stop, done };
}

/**
 * The debug socket in the private directory, named after the service and the process. The sockets
 * that services killed with SIGKILL left there are removed on the way.
 */
function defaultSocket(service: string): string {
  const dir = privateSocketDir();
  pruneServiceSockets(dir);
  return join(dir, `${service}-${process.pid}.sock`);
}
