// Options objects are checked strictly: an unknown key is a typo or a misplaced option (a
// steward given `maxRestarts` at the top level instead of inside `intensity`), and silently
// ignoring it would change behaviour without a word.
import { z } from 'zod';
import { InvalidArgument } from './errors.js';

/** The keys an options object may have: `true` for a value, a nested shape for an options object. */
export interface KeyShape {
  readonly [key: string]: true | KeyShape;
}

/**
 * Throw `INVALID_ARGUMENT` naming the first key of `value` that `shape` does not know, with the
 * nearest known option (nested ones included) when there is one close enough. Symbol keys are
 * not options and are left alone; nested shapes are checked when their value is an object.
 *
 * @param where what the options belong to, for the message (`steward 'jobs'`, `spawn`); on hot
 *   paths a function of `a` and `b` that makes the text, called only to write an error (a
 *   template string would be built on every call)
 */
export function checkKeys(where: Where, value: unknown, shape: KeyShape, a = '', b = ''): void {
  const error = unknownKey(where, value, shape, a, b);
  if (error !== null) throw error;
}

/** What {@link checkKeys} would throw, or null: for callers that must reject rather than throw. */
export function unknownKey(where: Where, value: unknown, shape: KeyShape, a = '', b = ''): InvalidArgument | null {
  return check(where, value, shape, '', shape, a, b);
}

/** What options belong to, for an error: the text, or a function that makes it from two strings. */
export type Where = string | ((a: string, b: string) => string);

function check(where: Where, value: unknown, shape: KeyShape, prefix: string, root: KeyShape, a: string, b: string): InvalidArgument | null {
  if (typeof value !== 'object' || value === null) return null;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const known = Object.hasOwn(shape, key) ? shape[key] : undefined;
    const path = prefix + key;
    if (known === undefined) {
      const near = nearest(path, key, root);
      return new InvalidArgument(
        `${typeof where === 'string' ? where : where(a, b)}: unknown option '${path}'${near === null ? '' : ` (did you mean '${near}'?)`}; known options${prefix === '' ? '' : ` of '${prefix.slice(0, -1)}'`}: ${Object.keys(shape).join(', ')}`,
        { option: path, suggestion: near },
      );
    }
    if (known !== true) {
      const nested = (value as Record<string, unknown>)[key];
      if (typeof nested === 'object' && nested !== null && !Array.isArray(nested)) {
        const error = check(where, nested, known, `${path}.`, root, a, b);
        if (error !== null) return error;
      }
    }
  }
  return null;
}

/** Every option path of a shape: `strategy`, `intensity`, `intensity.maxRestarts`, … */
function paths(shape: KeyShape, prefix = ''): string[] {
  const out: string[] = [];
  for (const [key, v] of Object.entries(shape)) {
    out.push(prefix + key);
    if (v !== true) out.push(...paths(v, `${prefix + key}.`));
  }
  return out;
}

/**
 * The known option closest to what was written: an option of the same name elsewhere in the
 * tree (`maxRestarts` → `intensity.maxRestarts`), else the one at the smallest edit distance,
 * ignoring case, when that distance is small next to the name's length.
 */
function nearest(path: string, key: string, root: KeyShape): string | null {
  const all = paths(root);
  const lower = key.toLowerCase();
  const sameName = all.find((p) => p !== path && (p.split('.').pop() as string).toLowerCase() === lower);
  if (sameName !== undefined) return sameName;
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const p of all) {
    const d = distance(path.toLowerCase(), p.toLowerCase());
    if (d < bestDistance) {
      best = p;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(path.length * 0.45)) ? best : null;
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length] as number;
}

/**
 * The keys of a zod object schema as a {@link KeyShape} (nested objects included, through
 * optional, nullable and default wrappers): for options that a package checks with zod, so that
 * an unknown key gets the same message, with the nearest known option, as core's options.
 */
export function keysOf(schema: z.ZodType): KeyShape {
  const out: Record<string, true | KeyShape> = {};
  const object = unwrap(schema);
  if (!(object instanceof z.ZodObject)) return out;
  for (const [key, field] of Object.entries(object.shape as Record<string, z.ZodType>)) {
    const inner = unwrap(field);
    out[key] = inner instanceof z.ZodObject ? keysOf(inner) : true;
  }
  return out;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
  return s;
}
