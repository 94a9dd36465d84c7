import { hostname } from 'node:os';
import { join } from 'node:path';
import { type ActorSystem, createSystem, fromPino, type ShutdownReport } from '@holdfast/core';
import type { Cluster } from '@holdfast/core/cluster';
import type { Disposer, ServiceDefinition } from './defineService.js';
import { startAdminServer } from './internal/adminServer.js';
import { privateSocketDir, pruneServiceSockets, startDebugServer } from './internal/debugServer.js';
import { createLogger } from './internal/logging.js';
import { ServiceMetrics } from './internal/metrics.js';
import { makeStore, optionalPackage, parseStoreSpec, redact } from './internal/storeSpec.js';
import { parseHostPort, type Settings, SettingsError } from './settings.js';

/** What `p` resolved to within `ms`, or false when it took longer. */
async function within(p: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
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
 * service's own `start`. `stop()` drains, in this order, within one deadline:
 *
 * 1. readiness turns off (`/readyz` answers 503 until the admin listener closes at the end) and
 *    the `draining` signal aborts;
 * 2. the front's disposer runs: the front stops taking new work and answers what it took,
 *    while the actors still serve its asks;
 * 3. the system drains: outside asks are refused with `SHUTTING_DOWN`, queued and in-flight
 *    work finishes, actors stop in reverse start order;
 * 4. the listeners close and the logs are written out.
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
  const storeSpec = parseStoreSpec(settings.store ?? definition.store ?? 'none', settings.store !== undefined ? '--store' : 'store');
  const store = await makeStore(storeSpec, definition.name);
  let cluster: Cluster | null = null;
  if (settings.cluster !== undefined) {
    if (storeSpec.kind !== 'postgres')
      throw new SettingsError('invalid setting --cluster (HOLDFAST_CLUSTER): a cluster needs a store every node shares: --store postgres://… (HOLDFAST_STORE)');
    const { natsCluster } = await optionalPackage('@holdfast/nats', 'a cluster', () => import('@holdfast/nats'));
    cluster = natsCluster({
      servers: settings.cluster.split(',').map((s) => s.trim()),
      node: settings.node ?? defaultNodeName(),
      shards: settings.shards,
      name: settings.clusterName,
      leaseTtlMs: settings.leaseTtlMs,
      replicas: settings.clusterReplicas,
      observer: metrics.clusterObserver,
    });
  }
  const system = createSystem({
    name: definition.name,
    logger: fromPino(logger),
    drainTimeoutMs: settings.drainTimeoutMs,
    turnObserver: metrics.observer,
    ...(store !== null && { store, durable: { ...definition.durable, onCommit: metrics.onCommit } }),
    ...(cluster !== null && { cluster }),
  });
  metrics.bind(system);
  if (store !== null) {
    // Take the store (and its ownership epoch) before serving: a service that cannot reach its
    // store does not start.
    try {
      await system.openStore();
    } catch (e) {
      logger.fatal(
        { err: e, store: redact(store.name) },
        cluster === null ? 'the store could not be opened' : 'the store could not be opened or the cluster joined',
      );
      await system.shutdown({ timeoutMs: settings.drainTimeoutMs });
      await closeLogs();
      throw e;
    }
  }
  const draining = new AbortController();
  let ready = false;
  let stopping: Promise<number> | null = null;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => {
    resolveDone = r;
  });

  // Ready while serving and while the store (if any) answers: a load balancer stops sending work
  // that would fail fast anyway.
  // In a cluster, ready while a member: joined, not leaving.
  const isReady = () => ready && (system.stats().durable?.available ?? true) && (cluster === null || system.cluster()?.status === 'joined');
  const admin = settings.admin ? await startAdminServer(settings.adminHost, settings.adminPort, { ready: isReady, metrics: () => metrics.text() }) : null;
  const debug = settings.debug
    ? await startDebugServer(system, {
        socket: settings.debugSocket ?? defaultSocket(definition.name),
        tcp:
          settings.debugTcp === undefined
            ? null
            : { ...(parseHostPort(settings.debugTcp) as { host: string; port: number }), token: settings.debugToken as string },
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
      (await definition.start({
        system,
        config: parsed.data,
        log: fromPino(logger.child({ component: 'service' })),
        draining: draining.signal,
        metrics: metrics.forService,
      })) ?? null;
  } catch (e) {
    logger.fatal({ err: e }, 'service start failed');
    await system.shutdown({ timeoutMs: settings.drainTimeoutMs });
    await closeListeners();
    await closeLogs();
    throw e;
  }

  const stop = (reason = 'stop requested'): Promise<number> => {
    stopping ??= (async () => {
      const deadline = performance.now() + settings.drainTimeoutMs;
      ready = false;
      draining.abort();
      logger.info({ reason, drainTimeoutMs: settings.drainTimeoutMs }, 'draining');
      // The front first, while the actors still serve: what it took gets its answer.
      const front = dispose === null ? null : closeFront(dispose);
      const frontClosed = front === null ? true : await within(front, deadline - performance.now());
      const report: ShutdownReport = await system.shutdown({ timeoutMs: Math.max(1, deadline - performance.now()) });
      // Past the deadline the front's requests still waiting on actors have their error now (the
      // system has stopped): give the front a moment to write those answers out.
      if (!frontClosed && front !== null) await within(front, 1_000);
      await closeListeners();
      const fatal = system.fatal;
      const clean = report.clean && frontClosed;
      const code = clean && fatal === null ? ExitCode.OK : ExitCode.FAILED;
      if (!frontClosed) logger.error({ drainTimeoutMs: settings.drainTimeoutMs }, 'drain deadline passed: the front had not closed (requests still open)');
      if (!report.clean) {
        logger.error(
          { unfinished: report.unfinished, durationMs: Math.round(report.durationMs) },
          `drain deadline passed: unfinished work in ${report.unfinished.map((u) => u.id).join(', ')}`,
        );
      }
      if (fatal !== null) logger.fatal({ err: fatal }, 'stopped after a fatal supervision failure');
      logger.info({ clean, durationMs: Math.round(settings.drainTimeoutMs - (deadline - performance.now())), exitCode: code }, 'stopped');
      await closeLogs();
      resolveDone(code);
      return code;
    })();
    return stopping;
  };

  /** Run the front's disposer: true once it has finished, false when it threw (logged). */
  const closeFront = async (close: Disposer): Promise<boolean> => {
    try {
      await close();
      return true;
    } catch (e) {
      logger.error({ err: e }, 'the front did not close cleanly');
      return false;
    }
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

/** The host name as a node name (letters, digits, `-` and `_`). */
function defaultNodeName(): string {
  return (
    hostname()
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .slice(0, 64) || 'node'
  );
}
