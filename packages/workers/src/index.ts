/**
 * `@holdfast/workers`: actors whose turns run on worker threads, so that CPU-heavy owners never
 * block the event loop. Same `ActorRef` API and semantics as in-thread actors, plus `WORKER_LOST`;
 * a stuck thread is found by its heartbeat, terminated and replaced, and only its actors restart.
 *
 * @example
 * ```ts
 * import { createSystem } from '@holdfast/core';
 * import { createWorkerHost, workerActor } from '@holdfast/workers';
 * import { HasherProtocol } from './protocols.js';
 *
 * const Hasher = workerActor(HasherProtocol, new URL('./hasher.actor.ts', import.meta.url));
 * const system = createSystem();
 * const host = createWorkerHost({ threads: 2, heartbeat: { timeoutMs: 1_000 } });
 * const h = system.spawn(Hasher, { id: 'h1', host });
 * console.log(await h.ask('digest', { text: 'hello' }));
 * await system.shutdown(); // closes the host too
 * ```
 * @module @holdfast/workers
 */
export { WorkerError, WorkerErrorCode } from './errors.js';
export { createWorkerHost, WorkerHost, type WorkerHostOptions } from './WorkerHost.js';
export { type WorkerActorOptions, type WorkerActorState, workerActor } from './workerActor.js';
