import { isHoldfastError } from '@holdfast/core';

/**
 * JSON with errors as plain objects and no cycles or bigints to trip over. A cycle is an object
 * that contains itself; one reached twice by different paths is shown both times.
 */
export function jsonLine(value: unknown): string {
  // The objects from the root down to the value being written (`this` is its holder).
  const path: object[] = [];
  return JSON.stringify(value, function (this: unknown, _key, v: unknown) {
    while (path.length > 0 && path[path.length - 1] !== this) path.pop();
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error) return isHoldfastError(v) ? v.toJSON() : { name: v.name, message: v.message };
    if (typeof v === 'object' && v !== null) {
      if (path.includes(v)) return '[cycle]';
      path.push(v);
    }
    return v;
  });
}
