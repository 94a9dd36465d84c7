/**
 * `@holdfast/http`: an HTTP front for Holdfast services, on fastify. Routes are checked by zod
 * schemas, failed asks become the HTTP status their error code calls for, limits keep hostile
 * clients from crashing the service or growing its memory, and `close` is the first step of a
 * drain: no request the front read goes unanswered.
 *
 * @example
 * ```ts
 * import { createHttpFront } from '@holdfast/http';
 *
 * export default defineService({
 *   name: 'kv',
 *   config: z.object({ port: z.coerce.number().default(8080) }),
 *   async start({ system, config, log, metrics }) {
 *     const store = system.spawn(Store, { id: 'store' });
 *     const front = createHttpFront({ name: 'kv', log, metrics });
 *     front.app.get('/kv/:key', { schema: { params: z.object({ key: z.string() }) } }, (req) => store.ask('get', { key: req.params.key }));
 *     await front.listen({ port: config.port, host: '127.0.0.1' });
 *     return front.close;
 *   },
 * });
 * ```
 * @module @holdfast/http
 */
export { createHttpFront, type FrontMetrics, type FrontStats, type HttpFront, type HttpFrontOptions, type HttpLimits } from './createHttpFront.js';
export { type HttpFailure, httpStatusOf, type RejectedStatuses } from './httpStatusOf.js';
export { type ZodTypeProvider, zodValidatorCompiler } from './ZodTypeProvider.js';
