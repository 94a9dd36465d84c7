/**
 * `@holdfast/store-sqlite`: the embedded store for durable actors — one SQLite file.
 *
 * @example
 * ```ts
 * import { sqliteStore } from '@holdfast/store-sqlite';
 * const store = sqliteStore({ path: 'data/app.db' });
 * const session = await store.open(); // takes a new ownership epoch
 * ```
 * @module @holdfast/store-sqlite
 */
export { type SqliteStoreOptions, sqliteStore } from './sqliteStore.js';
