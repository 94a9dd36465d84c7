// What crosses NATS between nodes: subjects, and the JSON of calls and replies. Everything that
// arrives is checked here before anything else looks at it: a malformed payload becomes an
// INVALID_MESSAGE reply, never an exception in a subscription callback.
import { ErrorCode, errorFromJSON, HoldfastError, InvalidArgument, isHoldfastError, type SerializedError, toError } from '@holdfast/core';
import type { RemoteCall } from '@holdfast/core/cluster';

/** A subject token: letters, digits, `-` and `_` (NATS forbids `.`, `*`, `>` and white space). */
export const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

export interface Subjects {
  /** Asks and tells to the actors of `shard`: only its owner subscribes. */
  shard(shard: number): string;
  /** Cancellations of asks to `shard` (the owner aborts the ask with that request id). */
  cancel(shard: number): string;
  /** Liveness of `node`: it answers with its name. */
  ping(node: string): string;
  /** Questions to `node` about itself (its actors, for a cluster-wide listing). */
  admin(node: string): string;
}

export function subjects(cluster: string): Subjects {
  return {
    shard: (s) => `holdfast.${cluster}.shard.${s}`,
    cancel: (s) => `holdfast.${cluster}.cancel.${s}`,
    ping: (n) => `holdfast.${cluster}.ping.${n}`,
    admin: (n) => `holdfast.${cluster}.admin.${n}`,
  };
}

/** A call on the wire: the call, its remaining deadline, its request id, and what kind it is. */
export interface WireCall extends RemoteCall {
  /** Milliseconds the caller still waits. */
  readonly timeoutMs: number;
  /** The request id, for cancellation. */
  readonly rid: string;
  /** A tell: answered (with nothing) once queued. */
  readonly tell?: boolean;
  /** Its caller may cancel it (a cancel message may follow, naming `rid`). */
  readonly cancellable?: boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeCall(call: WireCall): Uint8Array {
  return enc.encode(JSON.stringify(call));
}

/** The call in `data`, or the error to answer with. */
export function decodeCall(data: Uint8Array): WireCall | HoldfastError {
  let v: unknown;
  try {
    v = JSON.parse(dec.decode(data));
  } catch {
    return invalid('the payload is not JSON');
  }
  if (typeof v !== 'object' || v === null) return invalid('the payload is not an object');
  const c = v as Record<string, unknown>;
  if (typeof c.type !== 'string' || typeof c.id !== 'string' || c.id.length === 0 || typeof c.message !== 'string')
    return invalid('type, id and message must be strings');
  if (typeof c.timeoutMs !== 'number' || !(c.timeoutMs > 0) || !Number.isFinite(c.timeoutMs)) return invalid('timeoutMs must be a positive number');
  if (typeof c.rid !== 'string' || c.rid.length > 64) return invalid('rid must be a string');
  return {
    type: c.type,
    id: c.id,
    message: c.message,
    input: c.input,
    timeoutMs: Math.min(c.timeoutMs, 2_147_483_647),
    rid: c.rid,
    ...(c.send === true && { send: true }),
    ...(c.tell === true && { tell: true }),
    ...(c.cancellable === true && { cancellable: true }),
    ...(c.retryable === true && { retryable: true }),
    ...(typeof c.idempotencyKey === 'string' && { idempotencyKey: c.idempotencyKey }),
  };
}

function invalid(why: string): HoldfastError {
  return new HoldfastError(ErrorCode.INVALID_MESSAGE, `cluster call refused: ${why}`, {
    actor: '',
    message: '',
    issues: [{ code: 'custom', path: [], message: why }],
  });
}

/** A reply on the wire: the value, or the error. */
export function encodeReply(outcome: { ok: true; value: unknown } | { ok: false; error: unknown }): Uint8Array {
  if (outcome.ok) {
    try {
      return enc.encode(JSON.stringify({ v: outcome.value === undefined ? null : outcome.value }));
    } catch (e) {
      return encodeReply({ ok: false, error: new InvalidArgument(`the reply cannot be sent as JSON: ${toError(e).message}`) });
    }
  }
  const error = outcome.error;
  const json: SerializedError = isHoldfastError(error)
    ? error.toJSON()
    : (() => {
        const e = toError(error);
        return { name: e.name, code: 'INTERNAL', message: e.message, details: null };
      })();
  return enc.encode(JSON.stringify({ e: json }));
}

/** The reply in `data`: the value, or the (revived, coded) error. */
export function decodeReply(data: Uint8Array): { ok: true; value: unknown } | { ok: false; error: HoldfastError } {
  let v: unknown;
  try {
    v = JSON.parse(dec.decode(data));
  } catch {
    return { ok: false, error: new HoldfastError('INVALID_REPLY', 'cluster reply is not JSON', { actor: '', message: '', issues: [] }) };
  }
  if (typeof v === 'object' && v !== null) {
    const r = v as { v?: unknown; e?: SerializedError };
    if ('e' in r && typeof r.e === 'object' && r.e !== null && typeof r.e.code === 'string') return { ok: false, error: errorFromJSON(r.e) };
    if ('v' in r) return { ok: true, value: r.v };
  }
  return { ok: false, error: new HoldfastError('INVALID_REPLY', 'cluster reply has neither a value nor an error', { actor: '', message: '', issues: [] }) };
}
