// What core's own modules (the host seam) reach inside a system, without back doors on the
// public `ActorSystem`: each system registers its internals here when it is made.
import type { ActorSystem } from '../createSystem.js';
import type { StewardDelegate } from '../host.js';
import type { StewardOptions } from '../options.js';
import type { Steward } from '../Steward.js';
import type { SystemCore } from './SystemCore.js';

/** A system's insides, for core's own modules. */
export interface SystemInternals {
  readonly core: SystemCore;
  /** A steward under the root whose children's failures are decided by `delegate`. */
  delegatedSteward(name: string, options: StewardOptions, delegate: StewardDelegate): Steward;
}

const registry = new WeakMap<ActorSystem, SystemInternals>();

export function registerInternals(system: ActorSystem, internals: SystemInternals): void {
  registry.set(system, internals);
}

/** The internals of `system`, or undefined for an object that is not a system of this copy of core. */
export function internalsOf(system: ActorSystem): SystemInternals | undefined {
  return registry.get(system);
}
