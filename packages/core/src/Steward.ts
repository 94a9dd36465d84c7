import type { ActorRef } from './ActorRef.js';
import type { ActorDefinition } from './defineActor.js';
import type { AnyProtocol } from './defineProtocol.js';
import type { StewardSnapshot } from './inspection.js';
import type { StewardNode } from './internal/StewardNode.js';
import type { SpawnOptions, StewardOptions, Strategy } from './options.js';

/** @internal What a steward handle needs from its system. */
export interface StewardHost {
  spawnUnder(node: StewardNode, definition: ActorDefinition, options: SpawnOptions<unknown>): ActorRef;
  stewardUnder(node: StewardNode, name: string, options: StewardOptions): Steward;
}

/**
 * A steward supervises its children — actors and other stewards — with Erlang/OTP semantics.
 * Children start in the order they are added and stop in reverse order. When one fails, the
 * steward restarts it (and, by its strategy, its siblings) with fresh state from `init`, keeping
 * its id, ref and queued messages. Past its restart limit it stops its children and escalates to
 * its parent; past the root's limit the system reports `fatal`.
 *
 * Make one with `system.steward(name, options)` or `steward.steward(name, options)`.
 *
 * @example
 * ```ts
 * const payments = system.steward('payments', { strategy: 'rest-for-one', intensity: { maxRestarts: 3, withinMs: 10_000 } });
 * const ledger = payments.spawn(Ledger, { id: 'ledger' });
 * const gateway = payments.spawn(Gateway, { id: 'gateway', args: { ledger } }); // restarted when the ledger is
 * const workers = payments.steward('workers', { strategy: 'one-for-one' });
 * workers.spawn(Worker, { id: 'w1', restart: 'transient' });
 * ```
 */
export class Steward {
  readonly #node: StewardNode;
  readonly #host: StewardHost;

  /** @internal Made by `system.steward` and `steward.steward`. */
  constructor(node: StewardNode, host: StewardHost) {
    this.#node = node;
    this.#host = host;
  }

  /** Its name, unique in the system. */
  get name(): string {
    return this.#node.id;
  }

  /** Names from the root down, e.g. `root/payments/workers`. */
  get path(): string {
    return this.#node.path;
  }

  get strategy(): Strategy {
    return this.#node.opts.strategy;
  }

  /** `running`, `restarting` (down, its parent restarts it), `stopping` or `stopped`. */
  get status(): 'running' | 'restarting' | 'stopping' | 'stopped' {
    return this.#node.statusName;
  }

  /**
   * Start an actor as this steward's next child. `init` runs now; throws like `system.spawn`
   * (`ACTOR_EXISTS`, `SHUTTING_DOWN`, `ACTOR_CRASHED`), and `INVALID_ARGUMENT` when the steward
   * is not running. The actor's `restart` type applies; its failures count against this steward's
   * intensity (the actor's own `intensity` applies only to actors made with `system.spawn`).
   */
  spawn<P extends AnyProtocol, S, A>(
    definition: ActorDefinition<P, S, A>,
    ...rest: undefined extends A ? [options?: SpawnOptions<A>] : [options: SpawnOptions<A>]
  ): ActorRef<P> {
    return this.#host.spawnUnder(this.#node, definition as unknown as ActorDefinition, (rest[0] ?? {}) as SpawnOptions<unknown>) as unknown as ActorRef<P>;
  }

  /** Start a steward as this steward's next child. */
  steward(name: string, options: StewardOptions = {}): Steward {
    return this.#host.stewardUnder(this.#node, name, options);
  }

  /** This steward and everything under it, as the REPL shows it. */
  inspect(): StewardSnapshot {
    return this.#node.snapshot();
  }

  /** Stop every child in reverse start order, then this steward, for good (no restart). */
  stop(): Promise<void> {
    return this.#node.stopFor('stopped', null);
  }

  toString(): string {
    return `Steward(${this.path})`;
  }
}
