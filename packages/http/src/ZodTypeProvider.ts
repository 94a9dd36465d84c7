import type { FastifySchemaCompiler, FastifyTypeProvider } from 'fastify';
import type { z } from 'zod';

/**
 * Route schemas are zod schemas: a route's `params`, `querystring`, `body` and `headers` are
 * checked (and coerced, defaulted) by them, and typed from them in the handler.
 *
 * @example
 * ```ts
 * front.app.get('/kv/:key', { schema: { params: z.object({ key: z.string().max(256) }) } }, (req) => req.params.key);
 * ```
 */
export interface ZodTypeProvider extends FastifyTypeProvider {
  readonly validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  readonly serializer: this['schema'] extends z.ZodType ? z.input<this['schema']> : unknown;
}

/** Checks a request part with its zod schema; a failure is the ZodError, which the front answers with 400 and its issues. */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema }) =>
  (data: unknown) => {
    const r = schema.safeParse(data);
    return r.success ? { value: r.data } : { error: r.error };
  };
