// Which store a service uses, written as one string (a flag, an environment variable, or the
// service's definition): `sqlite` (the default file, data/<service>.db under the working
// directory), `sqlite:PATH` (with `?synchronous=normal` to trade the last commits on power loss
// for speed), `postgres://user@host:port/db`, `memory` (nothing survives the process) or `none`.
// The store packages are imported only when used: a service without a store never loads a driver.
import { resolve } from 'node:path';
import type { ActorStore } from '@holdfast/core/store';
import { SettingsError } from '../errors.js';

export type ParsedStore =
  | { readonly kind: 'sqlite'; readonly path: string | null; readonly synchronous: 'full' | 'normal' }
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'memory' }
  | { readonly kind: 'none' };

const USAGE = 'expected sqlite, sqlite:PATH[?synchronous=normal], postgres://user@host:port/database, memory or none';

/** Parse a store spec; throws a {@link SettingsError} naming what is wrong. */
export function parseStoreSpec(spec: string, where = 'store'): ParsedStore {
  if (typeof spec !== 'string' || spec.length === 0) throw new SettingsError(`invalid ${where}: ${USAGE}`);
  if (spec === 'none') return { kind: 'none' };
  if (spec === 'memory') return { kind: 'memory' };
  if (spec.startsWith('postgres://') || spec.startsWith('postgresql://')) {
    try {
      new URL(spec);
    } catch {
      throw new SettingsError(`invalid ${where}: ${JSON.stringify(redact(spec))} is not a URL; ${USAGE}`);
    }
    return { kind: 'postgres', url: spec };
  }
  if (spec === 'sqlite' || spec.startsWith('sqlite:')) {
    let rest = spec === 'sqlite' ? '' : spec.slice('sqlite:'.length);
    let synchronous: 'full' | 'normal' = 'full';
    const q = rest.indexOf('?');
    if (q >= 0) {
      const params = new URLSearchParams(rest.slice(q + 1));
      rest = rest.slice(0, q);
      for (const [key, value] of params) {
        if (key !== 'synchronous' || (value !== 'full' && value !== 'normal'))
          throw new SettingsError(`invalid ${where}: unknown option ${key}=${value} (only synchronous=full|normal)`);
        synchronous = value;
      }
    }
    return { kind: 'sqlite', path: rest === '' ? null : rest, synchronous };
  }
  throw new SettingsError(`invalid ${where}: ${JSON.stringify(redact(spec))}; ${USAGE}`);
}

/** The default SQLite file of a service: `data/<service>.db` under the working directory. */
export function defaultSqlitePath(service: string, cwd = process.cwd()): string {
  return resolve(cwd, 'data', `${service}.db`);
}

/** Make the store a spec names (null for `none`). */
export async function makeStore(parsed: ParsedStore, service: string): Promise<ActorStore | null> {
  switch (parsed.kind) {
    case 'none':
      return null;
    case 'memory': {
      const { memoryStore } = await import('@holdfast/core/store');
      return memoryStore();
    }
    case 'sqlite': {
      const { sqliteStore } = await driver('@holdfast/store-sqlite', () => import('@holdfast/store-sqlite'));
      return sqliteStore({ path: parsed.path === null ? defaultSqlitePath(service) : resolve(parsed.path), synchronous: parsed.synchronous });
    }
    case 'postgres': {
      const { postgresStore } = await driver('@holdfast/store-postgres', () => import('@holdfast/store-postgres'));
      return postgresStore({ connectionString: parsed.url });
    }
  }
}

/** A store package, loaded when the spec names it: a clear error when it is not installed. */
function driver<T>(name: string, load: () => Promise<T>): Promise<T> {
  return optionalPackage(name, 'the store', load);
}

/** An optional package (`@holdfast/nats`, a store driver), loaded when a setting names it: a clear error when it is not installed. */
export async function optionalPackage<T>(name: string, what: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(name))
      throw new SettingsError(`${what} needs ${name}: install it next to @holdfast/runtime (npm install ${name})`);
    throw e;
  }
}

/** A connection string without its password, for messages. */
export function redact(spec: string): string {
  return spec.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
