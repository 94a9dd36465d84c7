/**
 * `@holdfast/store-postgres`: the production store for durable actors — PostgreSQL.
 *
 * @example
 * ```ts
 * import { postgresStore } from '@holdfast/store-postgres';
 * const store = postgresStore({ connectionString: 'postgres://app@127.0.0.1:5432/app' });
 * const session = await store.open(); // takes a new ownership epoch
 * ```
 * @module @holdfast/store-postgres
 */
export { type PostgresStoreOptions, postgresStore } from './postgresStore.js';
