/**
 * `@holdfast/nats`: one Holdfast system across processes and machines. Durable actors are
 * sharded by id over the nodes; each shard's owner holds a lease in a JetStream KV bucket, and
 * the lease's number is the epoch the store fences writes with, so a stale owner can never
 * write. Messages travel as NATS request-reply; a ref works the same on every node.
 *
 * @example
 * ```ts
 * import { createSystem } from '@holdfast/core';
 * import { natsCluster } from '@holdfast/nats';
 * import { postgresStore } from '@holdfast/store-postgres';
 *
 * const system = createSystem({
 *   store: postgresStore({ connectionString: process.env.DATABASE_URL ?? '' }),
 *   durable: { types: [Account] },
 *   cluster: natsCluster({ servers: 'nats://127.0.0.1:4222', node: 'node-a', shards: 64 }),
 * });
 * await system.openStore(); // store open, cluster joined
 * await system.ref(Account, 'acct-42').ask('deposit', { amount: 5 }); // wherever it runs
 * ```
 * @module @holdfast/nats
 */
export { type ClusterObserver, type NatsClusterOptions, natsCluster } from './natsCluster.js';
