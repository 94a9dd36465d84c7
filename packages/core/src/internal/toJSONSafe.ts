/**
 * A JSON-safe rendering of any value, for the REPL and logs: Maps become objects (or entry
 * lists when keys are not strings), Sets arrays, bigints strings, functions and symbols their
 * description; cycles and depth are cut.
 */
export function toJSONSafe(value: unknown, maxDepth = 8, maxItems = 1000): unknown {
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        return Number.isFinite(v) ? v : String(v);
      case 'bigint':
        return `${v}n`;
      case 'undefined':
        return null;
      case 'function':
        return `[function ${(v as { name?: string }).name || 'anonymous'}]`;
      case 'symbol':
        return v.toString();
    }
    if (v === null) return null;
    const o = v as object;
    if (seen.has(o)) return '[Circular]';
    if (depth >= maxDepth) return '[…]';
    seen.add(o);
    try {
      if (o instanceof Date) return o.toISOString();
      if (o instanceof Error) return { name: o.name, message: o.message };
      if (o instanceof Map) {
        const entries = [...o.entries()].slice(0, maxItems);
        if (entries.every(([k]) => typeof k === 'string')) {
          const out: Record<string, unknown> = {};
          for (const [k, val] of entries) out[k as string] = walk(val, depth + 1);
          return out;
        }
        return entries.map(([k, val]) => [walk(k, depth + 1), walk(val, depth + 1)]);
      }
      if (o instanceof Set) return [...o].slice(0, maxItems).map((x) => walk(x, depth + 1));
      if (ArrayBuffer.isView(o)) return `[${o.constructor.name} ${o.byteLength} bytes]`;
      if (o instanceof ArrayBuffer) return `[ArrayBuffer ${o.byteLength} bytes]`;
      if (Array.isArray(o)) return o.slice(0, maxItems).map((x) => walk(x, depth + 1));
      const toJSON = (o as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return walk(toJSON.call(o), depth + 1);
      const out: Record<string, unknown> = {};
      let n = 0;
      for (const k of Object.keys(o)) {
        if (n++ >= maxItems) break;
        out[k] = walk((o as Record<string, unknown>)[k], depth + 1);
      }
      return out;
    } finally {
      seen.delete(o);
    }
  };
  return walk(value, 0);
}
