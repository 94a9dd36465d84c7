import type { ActorRef } from '../ActorRef.js';
import type { ActorSystem } from '../createSystem.js';
import type { DeferredReply, Lease, ScheduleWhen } from '../defineActor.js';
import type { Logger } from '../Logger.js';
import type { Turn } from './callChain.js';
import type { Cell } from './cell/Cell.js';
import { beat, scheduleFrom } from './cell/timers.js';
import { leaseOf } from './cluster/Placement.js';
import { detachedReply, neverAborted } from './HandlerContext.js';

/**
 * The `ctx` of a hook (`onStart`, `onStop`): one per call. It is also the hook's turn, a link in
 * the call chain, so that the asks a hook makes count as in-flight work and join deadlock
 * detection. Once the incarnation that ran it has ended it is fenced: its timers no longer reach
 * anyone.
 */
export class HookContext implements Turn {
  readonly cell: Cell;
  readonly incarnation: number;
  done = false;
  fenced = false;

  constructor(cell: Cell) {
    this.cell = cell;
    this.incarnation = cell.incarnation;
  }

  // Turn (the call chain).
  get actorId(): string {
    return this.cell.id;
  }
  get owner(): object {
    return this.cell;
  }
  get parent(): Turn | null {
    return null;
  }

  get self(): ActorRef<never> {
    return this.cell.ref as unknown as ActorRef<never>;
  }
  get system(): ActorSystem {
    return this.cell.core.facade;
  }
  get lease(): Lease | null {
    return leaseOf(this.cell);
  }
  get log(): Logger {
    return this.cell.log;
  }
  /** A hook serves no message. */
  get message(): string {
    return '';
  }
  get signal(): AbortSignal {
    return neverAborted;
  }

  /** The incarnation that ran this hook is gone. */
  abandon(): void {
    this.fenced = true;
    this.done = true;
  }

  heartbeat(): void {
    if (!this.fenced) beat(this.cell);
  }

  stop(): void {
    if (!this.fenced) this.cell.requestExit();
  }

  /** A hook has no caller: the reply goes nowhere. */
  defer(): DeferredReply<never> {
    return detachedReply as DeferredReply<never>;
  }

  schedule(message: never, input: unknown, when: ScheduleWhen): () => void {
    return scheduleFrom(this.cell, message as string, input, when, this.incarnation, this.fenced);
  }
}
