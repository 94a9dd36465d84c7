// The errors of @holdfast/workers. Like core's, each has a stable code, details, a cause where
// there is one, and serialises (toJSON) so that it crosses threads and sockets with its code. The
// code callers match when a thread is lost stays core's `WORKER_LOST`; these are its causes and
// the failures of the host itself.
import { HoldfastError } from '@holdfast/core';

/** The codes of @holdfast/workers' own errors. */
export const WorkerErrorCode = {
  /** A thread stopped beating for longer than its heartbeat timeout (a handler stuck in a loop). */
  THREAD_STUCK: 'THREAD_STUCK',
  /** A thread ended (it exited, or ran out of memory). */
  THREAD_ENDED: 'THREAD_ENDED',
  /** The host has no live thread to place an actor on (it is closing). */
  NO_THREAD: 'NO_THREAD',
  /** Spawn arguments, an input or a reply that cannot be copied to or from a thread. */
  NOT_CLONEABLE: 'NOT_CLONEABLE',
  /** A behaviour module whose default export is not an actor of the declared protocol. */
  BAD_BEHAVIOUR_MODULE: 'BAD_BEHAVIOUR_MODULE',
  /** A message for an actor the thread does not hold (it moved, or was never started there). */
  NOT_ON_THREAD: 'NOT_ON_THREAD',
} as const;
export type WorkerErrorCode = (typeof WorkerErrorCode)[keyof typeof WorkerErrorCode];

/** A failure of a worker thread or of the worker host. */
export class WorkerError<D = Record<string, unknown>> extends HoldfastError<WorkerErrorCode, D> {
  constructor(code: WorkerErrorCode, message: string, details: D, options?: { cause?: unknown }) {
    super(code, message, details, options);
  }
  override get name() {
    return 'WorkerError';
  }
}
