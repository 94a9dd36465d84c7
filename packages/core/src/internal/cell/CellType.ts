import type { ActorDefinition } from '../../defineActor.js';
import type { ResolvedActorOptions } from '../../options.js';
import type { SystemCore } from '../SystemCore.js';
import { type BoundTable, bindHandlers } from './handlers.js';

/**
 * What every actor of one type with the same options shares in one system: its system, its
 * definition, its resolved options and its handlers bound to their messages. Held once, not by
 * every cell (a spawn of a type seen before makes none; a cell is three fields smaller).
 */
export class CellType {
  readonly table: BoundTable;
  constructor(
    readonly core: SystemCore,
    readonly def: ActorDefinition,
    readonly opts: ResolvedActorOptions,
  ) {
    this.table = bindHandlers(def);
  }
}
