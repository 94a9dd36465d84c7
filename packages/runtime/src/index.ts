/**
 * `@holdfast/runtime`: run a Holdfast system as a long-lived service.
 *
 * `holdfast run <entry>` loads a module whose default export is a {@link defineService}, starts it
 * with pino logs, an admin HTTP listener (`/healthz`, `/readyz`, `/metrics`) and a debug socket,
 * and drains it on SIGTERM/SIGINT.
 *
 * @example
 * ```ts
 * import { defineService } from '@holdfast/runtime';
 * import { z } from 'zod';
 *
 * export default defineService({
 *   name: 'kv',
 *   config: z.object({ port: z.coerce.number().default(8080) }),
 *   async start({ system, config }) {
 *     const store = system.spawn(Store, { id: 'store' });
 *     const server = startFront(store, config.port);
 *     return () => new Promise<void>((r) => server.close(() => r()));
 *   },
 * });
 * ```
 * @module @holdfast/runtime
 */
export { type Disposer, defineService, isService, type ServiceContext, type ServiceDefinition } from './defineService.js';
export { RuntimeError, RuntimeErrorCode, SettingsError } from './errors.js';
export type { CounterMetric, CounterReading, GaugeMetric, GaugeReading, HistogramMetric, Labels, MetricOptions, Metrics } from './Metrics.js';
export { ExitCode, type RunningService, runService } from './runService.js';
export { resolveSettings, type Settings, SettingsSchema } from './settings.js';
