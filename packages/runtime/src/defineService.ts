import { type ActorSystem, type DurableOptions, InvalidArgument, type Logger } from '@holdfast/core';
import { checkKeys } from '@holdfast/core/host';
import type { z } from 'zod';
import type { SettingsError } from './errors.js';
import { parseStoreSpec } from './internal/storeSpec.js';
import type { Metrics } from './Metrics.js';

/** What a service's `start` receives. */
export interface ServiceContext<C> {
  /** The actor system: spawn actors and stewards under it. */
  readonly system: ActorSystem;
  /** The service's own settings, parsed by its `config` schema. */
  readonly config: C;
  /** The service's logger (pino). */
  readonly log: Logger;
  /**
   * Aborted when the drain begins, before the front's disposer runs. Work the service does on
   * its own (an ingest loop, a gossip round) can stop taking new work from here.
   */
  readonly draining: AbortSignal;
  /** The service's own Prometheus metrics, served on `/metrics` with the runtime's and the process's. */
  readonly metrics: Metrics;
}

/**
 * What `start` may return: a disposer that closes the service's front (HTTP server, TCP
 * listener). It is the first step of the drain, while the actors still serve: it must stop
 * taking new work (new connections; new requests answered "unavailable", e.g. 503 with
 * `Connection: close`) and resolve once the requests it had taken are answered. The system
 * drains after it. `@holdfast/http`'s front does all of this.
 */
export type Disposer = () => void | Promise<void>;

/** A service: what `holdfast run` loads and runs. */
export interface ServiceDefinition<C = unknown> {
  readonly kind: 'service';
  /** The service's name: the system's name, the log's `name`, and the prefix of its environment variables. */
  readonly name: string;
  /** The schema of the service's own settings (from `--config key=value` and `<NAME>_<KEY>` variables). */
  readonly config: z.ZodType<C>;
  /**
   * Where the service's durable actors keep their state, unless `--store` / `HOLDFAST_STORE`
   * say otherwise: `sqlite` (the file `data/<name>.db` under the working directory),
   * `sqlite:PATH` (add `?synchronous=normal` to trade the last commits on power loss for
   * speed), `postgres://user@host:port/database`, `memory` or `none` (the default).
   */
  readonly store?: string;
  /** How durable actors are kept in memory and reminded (see `DurableOptions` in @holdfast/core). */
  readonly durable?: Omit<DurableOptions, 'onCommit'>;
  /**
   * Spawn the actors (under the system's stewards) and start the front. Return a disposer that
   * closes the front: the drain runs it first, then drains the system (see {@link Disposer}).
   */
  start(context: ServiceContext<C>): void | Disposer | Promise<void | Disposer>;
}

/**
 * Define a service for `holdfast run`. Export it as the module's default export.
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * import { z } from 'zod';
 * import { defineService } from '@holdfast/runtime';
 *
 * export default defineService({
 *   name: 'kv',
 *   config: z.object({ port: z.coerce.number().int().min(0).max(65535).default(8080) }),
 *   async start({ system, config, log }) {
 *     const store = system.spawn(Store, { id: 'store' });
 *     const server = http.createServer(async (req, res) => res.end(String(await store.ask('get', { key: req.url ?? '' }))));
 *     await new Promise<void>((r) => server.listen(config.port, '127.0.0.1', r));
 *     log.info({ port: config.port }, 'front listening');
 *     return () => new Promise<void>((r) => server.close(() => r()));
 *   },
 * });
 * ```
 */
export function defineService<C>(definition: Omit<ServiceDefinition<C>, 'kind'>): ServiceDefinition<C> {
  checkKeys(`defineService('${definition?.name}')`, definition, { name: true, config: true, start: true, store: true, durable: true });
  if (typeof definition?.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(definition.name)) {
    throw new InvalidArgument(
      `defineService: name must be lower-case letters, digits and dashes, starting with a letter; got ${JSON.stringify(definition?.name)}`,
    );
  }
  if (typeof definition.start !== 'function') throw new InvalidArgument(`defineService('${definition.name}'): start must be a function`);
  if (typeof definition.config?.safeParse !== 'function') throw new InvalidArgument(`defineService('${definition.name}'): config must be a zod schema`);
  if (definition.store !== undefined) {
    try {
      parseStoreSpec(definition.store, `defineService('${definition.name}'): store`);
    } catch (e) {
      throw new InvalidArgument((e as SettingsError).message);
    }
  }
  return Object.freeze({ kind: 'service', ...definition });
}

/** True for a value made by {@link defineService}. */
export function isService(value: unknown): value is ServiceDefinition {
  return typeof value === 'object' && value !== null && (value as ServiceDefinition).kind === 'service';
}
