import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ASK_ZOD, compileSchema } from '../src/internal/compileSchema.js';

// A compiled schema must agree with zod exactly: it accepts what zod accepts, with the same
// output (keys, defaults, fresh objects), and hands everything else to zod.
const leaf = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('', 'a', 'abc', 'abcdef', 'ab1', '😀', 'x'.repeat(40)),
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(0, -0, 1.5, -1, 2 ** 53, 2 ** 31, -(2 ** 31) - 1, 4294967296, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  fc.boolean(),
  fc.constantFrom(null, undefined, 'on', 'off', 1, 2),
);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('any'), { maxLength: 4 }),
  object: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'n', 'tags', 'mode', 'extra', 'inner'), tie('any'), { maxKeys: 6 }),
})).any;

const schemas: Record<string, z.ZodType> = {
  string: z.string(),
  bounded: z.string().min(1).max(5),
  exact: z.string().length(3),
  pattern: z.string().regex(/^[a-z]+$/),
  globalPattern: z.string().regex(/b/g),
  number: z.number(),
  int: z.number().int().min(0).max(10),
  exclusive: z.number().gt(-1).lt(2),
  int32: z.int32(),
  uint32: z.uint32(),
  boolean: z.boolean(),
  literal: z.literal(['on', 1]),
  enum: z.enum(['on', 'off']),
  nativeEnum: z.enum({ One: 1, Two: 2 }),
  nullable: z.string().nullable(),
  optional: z.number().optional(),
  array: z.array(z.number().int()).max(3),
  nested: z.object({
    a: z.string().min(1),
    n: z.number().int().default(7),
    b: z.boolean().optional(),
    c: z.unknown(),
    tags: z.array(z.string()).default(() => []),
    inner: z.object({ a: z.string().optional(), n: z.number().nullable() }).optional(),
    mode: z.enum(['on', 'off']).default('off'),
  }),
  empty: z.object({}),
  // Required keys whose schema refuses undefined: an absent key is told apart by the type test alone.
  required: z.object({ n: z.number().int(), a: z.int32(), b: z.uint32().nullable(), c: z.string(), tags: z.array(z.int()), inner: z.object({}) }),
  undefinedLiteral: z.object({ a: z.literal(['a', undefined]), mode: z.enum(['on', 'off']).nullable() }),
  anyField: z.object({ a: z.any(), b: z.undefined().optional() }),
  wrapped: z.object({
    a: z.number().default(5),
    b: z.string().optional().default('q'),
    c: z.string().nullable().optional(),
    n: z.array(z.object({ a: z.boolean() })).optional(),
  }),
};

describe('compiled schemas', () => {
  it.each(Object.keys(schemas))('%s: agrees with zod on every value, output included', (name) => {
    const schema = schemas[name] as z.ZodType;
    const check = compileSchema(schema);
    expect(check).not.toBeNull();
    fc.assert(
      fc.property(value, (v) => {
        const r = schema.safeParse(v);
        const c = (check as (v: unknown) => unknown)(v);
        if (r.success) {
          expect(c).not.toBe(ASK_ZOD);
          expect(c).toStrictEqual(r.data);
        } else {
          expect(c).toBe(ASK_ZOD);
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it('builds a fresh object, as zod does: the caller’s object and the handler’s are not the same', () => {
    const schema = z.object({ a: z.string(), list: z.array(z.number()) });
    const check = compileSchema(schema) as (v: unknown) => unknown;
    const input = { a: 'x', list: [1, 2], extra: true };
    const out = check(input) as { a: string; list: number[] };
    expect(out).toStrictEqual({ a: 'x', list: [1, 2] });
    expect(out).not.toBe(input);
    expect(out.list).not.toBe(input.list);
  });

  it.each([
    ['a union', z.union([z.string(), z.number()])],
    ['a transform', z.string().transform((s) => s.length)],
    ['a refinement', z.string().refine((s) => s.length > 1)],
    ['a strict object', z.strictObject({ a: z.string() })],
    ['a loose object', z.looseObject({ a: z.string() })],
    ['coercion', z.coerce.number()],
    ['an email format', z.email()],
    ['a record', z.record(z.string(), z.number())],
    ['a multiple-of check', z.number().multipleOf(3)],
    ['a nested union', z.object({ a: z.union([z.string(), z.null()]) })],
    ['an optional around a default', z.object({ a: z.number().default(5).optional() })],
    ['an exact optional', z.object({ a: z.string().exactOptional() })],
  ])('leaves %s to zod', (_name, schema) => {
    expect(compileSchema(schema as z.ZodType)).toBeNull();
  });
});
