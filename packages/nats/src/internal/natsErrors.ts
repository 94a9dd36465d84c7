// Telling NATS's failures apart: a request nobody subscribes to (the shard is moving, or its
// owner died), a revision check that lost (another node wrote first), and a node that died with
// our requests in flight.
import { toError } from '@holdfast/core';
import { NoRespondersError, RequestError } from '@nats-io/transport-node';
import { NoResponders } from './Requests.js';

/** JetStream's error code for a revision-checked write whose expected revision is not the key's. */
const WRONG_LAST_SEQUENCE = 10071;

/** The node a request was sent to died (or left the bucket without answering). */
export class NodeDied extends Error {
  constructor(
    readonly node: string,
    cause: Error,
  ) {
    super(`node '${node}' died`, { cause });
  }
}

/** Nobody subscribes to the subject the request went to. */
export function noResponders(e: unknown): boolean {
  if (e instanceof NoResponders || e instanceof NoRespondersError) return true;
  if (e instanceof RequestError) return e.isNoResponders();
  return false;
}

/** A revision-checked create, update or delete found another revision: someone else wrote first. */
export function wrongSequence(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(toError(e).message);
}
