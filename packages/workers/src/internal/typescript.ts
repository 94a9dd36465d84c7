const REGISTERED = Symbol.for('holdfast.workers.tsx');
const flags = globalThis as { [REGISTERED]?: boolean };

/**
 * Load TypeScript modules in this thread: register tsx's loader the first time a `.ts` module
 * is asked for (in development; built output needs nothing).
 */
export async function ensureTypeScript(specifier: string): Promise<void> {
  if (flags[REGISTERED] === true || !/\.[mc]?tsx?$/.test(new URL(specifier).pathname)) return;
  flags[REGISTERED] = true;
  const { register } = await import('tsx/esm/api');
  register();
}
