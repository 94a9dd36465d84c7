import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ActorDefinition, type ActorOptions, type AnyProtocol, defineActor, type Handlers, InvalidArgument, type LifecycleContext } from '@holdfast/core';
import { checkKeys, hostSeam } from '@holdfast/core/host';
import type { StandIn } from './internal/StandIn.js';
import { WorkerHost } from './WorkerHost.js';

declare const standIn: unique symbol;

/**
 * The state of a worker-hosted actor's stand-in on the main thread: opaque (the actor's own state
 * lives on its thread). It appears in the type of a `workerActor(...)` definition only.
 */
export interface WorkerActorState {
  readonly [standIn]: true;
}

/** What the stand-in really holds: the link to its actor on a thread, once started. */
interface StandInState {
  link: StandIn | null;
}

/** Options of {@link workerActor}. */
export interface WorkerActorOptions {
  /** The actor type's name (default: the protocol's name). */
  readonly name?: string;
  /** Defaults for every actor of this type (mailbox, timeouts, restart type, …); spawn options override them. */
  readonly options?: ActorOptions;
}

/**
 * Declare an actor type whose turns run on a worker thread. The behaviour is the default export
 * of `module` (made with `defineActor(protocol, …)`), which the thread imports; this side needs
 * only the protocol. Spawn it with a host; its ref has the same API, ordering, timeouts and
 * errors as an in-thread actor's, plus `WORKER_LOST` when its thread is lost.
 *
 * `A` is the type of the spawn `args` that the module's `init` takes (they are copied to the thread).
 *
 * @example
 * ```ts
 * // hasher.actor.ts (runs on a worker thread)
 * export default defineActor(HasherProtocol, { init: () => ({}), handlers: { digest: (_s, { data }) => sha256(data) } });
 *
 * // app.ts
 * const Hasher = workerActor(HasherProtocol, new URL('./hasher.actor.ts', import.meta.url));
 * const host = createWorkerHost({ threads: 2 });
 * const h = system.spawn(Hasher, { id: 'h1', host });
 * await h.ask('digest', { data }, { transfer: [data.buffer] });
 * ```
 */
export function workerActor<P extends AnyProtocol, A = unknown>(
  protocol: P,
  module: URL | string,
  options: WorkerActorOptions = {},
): ActorDefinition<P, WorkerActorState, A> {
  checkKeys(`workerActor '${protocol?.name}'`, options, { name: true, options: true });
  const url = moduleUrl(module);
  const typeName = options.name ?? protocol.name;
  const type = { typeName, module: url, protocol };
  // Each handler forwards the message it serves to the actor's thread (ctx is not needed).
  const handlers: Record<string, (s: StandInState, input: unknown) => Promise<void> | undefined> = {};
  for (const name of Object.keys(protocol.messages)) {
    handlers[name] = (state, input) => (state.link as StandIn).forward(name, input);
  }
  const def = defineActor(protocol, {
    name: typeName,
    init: (): StandInState => ({ link: null }),
    handlers: handlers as unknown as Handlers<P, StandInState>,
    // Plain functions that return promises, not async functions: an async hook would make the
    // core carry the call chain through AsyncLocalStorage, which slows every promise in the process.
    onStart(state: StandInState, ctx: LifecycleContext<P>): Promise<void> {
      const host = hostSeam(ctx.system).hostOf(ctx.self);
      if (!(host instanceof WorkerHost)) return Promise.reject(new InvalidArgument(`actor '${ctx.self.id}': its host must be made with createWorkerHost()`));
      const link = host.standInFor(ctx.self, ctx.system, type, ctx.log);
      state.link = link;
      return link.start(ctx.log);
    },
    onStop(state: StandInState, _ctx: LifecycleContext<P>, reason): Promise<void> | undefined {
      return state.link?.end(reason);
    },
    inspect: (state: StandInState) => {
      const link = state.link;
      return {
        host: link?.host.name ?? null,
        thread: link?.thread?.no ?? null,
        inFlight: link?.inFlight ?? 0,
        held: link?.held ?? 0,
      };
    },
    ...(options.options && { options: options.options }),
  });
  return Object.freeze({ ...def, hosted: true }) as unknown as ActorDefinition<P, WorkerActorState, A>;
}

function moduleUrl(module: URL | string): string {
  if (module instanceof URL) {
    if (module.protocol !== 'file:') throw new InvalidArgument(`workerActor: the behaviour module must be a file: URL, got ${module.href}`);
    return module.href;
  }
  if (typeof module === 'string') {
    if (module.startsWith('file:')) return new URL(module).href;
    if (isAbsolute(module)) return pathToFileURL(module).href;
  }
  throw new InvalidArgument(
    `workerActor: the behaviour module must be a URL or an absolute path (for example new URL('./hasher.actor.ts', import.meta.url)), got ${String(module)}`,
  );
}
