// Durable state is stored as JSON. A schema whose output has a part JSON cannot carry (a Map
// would be stored as {}, a Date as a string its schema then refuses on load) would lose data
// silently at the first commit, so such a schema is refused when the actor type is defined.
import type { z } from 'zod';

/** Output types JSON cannot carry, with what to use instead. */
const NOT_JSON: Record<string, string> = {
  map: 'a record (z.record) or an array of entries',
  set: 'an array',
  date: 'an ISO string (z.iso.datetime()) or a number of milliseconds',
  bigint: 'a string or a number',
  symbol: 'a string',
  undefined: 'null (z.null()) or an optional key',
  void: 'null (z.null()) or an optional key',
  function: 'data',
  promise: 'data',
  nan: 'null',
  file: 'a string',
};

interface Def {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly catchall?: z.ZodType;
  readonly element?: z.ZodType;
  readonly items?: readonly z.ZodType[];
  readonly rest?: z.ZodType | null;
  readonly valueType?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly left?: z.ZodType;
  readonly right?: z.ZodType;
  readonly innerType?: z.ZodType;
  readonly out?: z.ZodType;
  readonly getter?: () => z.ZodType;
}

/**
 * The first part of `schema`'s output that JSON cannot carry, as its path and what to use
 * instead, or null. Parts whose output cannot be known (transforms, custom types) are let through.
 */
export function notJson(schema: z.ZodType): { path: string; type: string; instead: string } | null {
  const seen = new Set<unknown>();
  const walk = (s: z.ZodType | null | undefined, path: string): { path: string; type: string; instead: string } | null => {
    if (s === null || s === undefined || seen.has(s)) return null;
    seen.add(s);
    const def = (s as unknown as { _zod?: { def?: Def } })._zod?.def;
    if (def === undefined) return null;
    const instead = NOT_JSON[def.type];
    if (instead !== undefined) return { path: path === '' ? '(the state itself)' : path, type: def.type, instead };
    const all = (parts: ReadonlyArray<readonly [z.ZodType | null | undefined, string]>) => {
      for (const [part, at] of parts) {
        const found = walk(part, at);
        if (found !== null) return found;
      }
      return null;
    };
    switch (def.type) {
      case 'object':
        return all([...Object.entries(def.shape ?? {}).map(([k, v]) => [v, path === '' ? k : `${path}.${k}`] as const), [def.catchall, `${path}[*]`]]);
      case 'array':
        return walk(def.element, `${path}[]`);
      case 'tuple':
        return all([...(def.items ?? []).map((v, i) => [v, `${path}[${i}]`] as const), [def.rest, `${path}[…]`]]);
      case 'record':
        return walk(def.valueType, `${path}[*]`);
      case 'union':
        return all((def.options ?? []).map((v) => [v, path] as const));
      case 'intersection':
        return all([
          [def.left, path],
          [def.right, path],
        ]);
      case 'pipe':
        return walk(def.out, path);
      case 'lazy':
        return walk(def.getter?.(), path);
      default:
        return def.innerType !== undefined ? walk(def.innerType, path) : null;
    }
  };
  return walk(schema, '');
}
