import { isHoldfastError } from '@holdfast/core';

/** An HTTP answer for an error: its status, its JSON body and the headers it needs. */
export interface HttpFailure {
  readonly status: number;
  readonly body: { readonly error: string; readonly message: string; readonly [key: string]: unknown };
  readonly headers: Readonly<Record<string, string>>;
  /** A failure of the service itself (a 5xx other than "unavailable"): worth a log line. */
  readonly internal: boolean;
}

/** Statuses for business refusals (`reject(reason, details)`), by reason; the rest get 409. */
export type RejectedStatuses = Readonly<Record<string, number>>;

/**
 * How a failed ask reads over HTTP. Holdfast's error codes map to statuses a client can act on:
 *
 * | code | status | |
 * |---|---|---|
 * | `INVALID_MESSAGE` | 400 | zod's `issues` in the body |
 * | `REJECTED` | 409, or `rejected[reason]` | the business `reason` as `error`, its `details` |
 * | `ACTOR_NOT_FOUND` | 404 | |
 * | `MAILBOX_FULL`, `WORKER_LOST`, `ACTOR_STOPPED` | 503 | `Retry-After: 1`: the actor is busy, restarting or gone |
 * | `COMMIT_FAILED`, `STORE_UNAVAILABLE` | 503 | `Retry-After: 1`: a durable actor's store failed or is down |
 * | `NODE_LOST`, `SHARD_MOVED` | 503 | `Retry-After: 1`: in a cluster, the node serving the actor was lost (whether the request was applied is unknown: retry with an idempotency key) or the actor is moving |
 * | `SHUTTING_DOWN` | 503 | `Connection: close`: go to another instance |
 * | `ASK_TIMEOUT` | 504 | |
 * | anything else (`ACTOR_CRASHED`, `DEADLOCK`, `STATE_INVALID`, a bug) | 500 | code only: the details go to the log |
 *
 * @example
 * ```ts
 * const failure = httpStatusOf(error);
 * res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers }).end(JSON.stringify(failure.body));
 * ```
 */
export function httpStatusOf(error: unknown, rejected: RejectedStatuses = {}): HttpFailure {
  if (!isHoldfastError(error)) return fail(500, 'INTERNAL', 'the request failed', {}, true);
  switch (error.code) {
    case 'INVALID_MESSAGE':
      return {
        status: 400,
        body: { error: error.code, message: error.message, issues: (error.details as { issues: unknown }).issues },
        headers: {},
        internal: false,
      };
    case 'REJECTED': {
      const { reason, details } = (error as { details: { reason: string; details: unknown } }).details;
      const status = Object.hasOwn(rejected, reason) ? (rejected[reason] as number) : 409;
      return { status, body: { error: reason, message: error.message, ...(details === undefined ? {} : { details }) }, headers: {}, internal: false };
    }
    case 'ACTOR_NOT_FOUND':
      return fail(404, error.code, error.message, {}, false);
    case 'MAILBOX_FULL':
    case 'WORKER_LOST':
    case 'ACTOR_STOPPED':
      return fail(503, error.code, 'unavailable: try again shortly', { 'retry-after': '1' }, false);
    case 'COMMIT_FAILED':
    case 'STORE_UNAVAILABLE':
      return fail(503, error.code, 'unavailable: the store failed; try again shortly', { 'retry-after': '1' }, false);
    case 'NODE_LOST':
      return fail(503, error.code, 'unavailable: the node serving it was lost; whether it was applied is unknown', { 'retry-after': '1' }, false);
    case 'SHARD_MOVED':
      return fail(503, error.code, 'unavailable: it is moving to another node; try again shortly', { 'retry-after': '1' }, false);
    case 'SHUTTING_DOWN':
      return fail(503, error.code, 'unavailable: the service is shutting down', { connection: 'close' }, false);
    case 'ASK_TIMEOUT':
      return fail(504, error.code, 'timed out', {}, false);
    default:
      return fail(500, error.code, 'the request failed', {}, true);
  }
}

function fail(status: number, error: string, message: string, headers: Record<string, string>, internal: boolean): HttpFailure {
  return { status, body: { error, message }, headers, internal };
}
