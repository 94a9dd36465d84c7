// The message trace (the debug REPL's .trace): every message in and every reply out, to the
// listeners, while anyone listens. Costs nothing otherwise (the gate's GATE_TRACE bit).
import type { CompiledMessage } from '../../defineProtocol.js';
import { toError } from '../../errors.js';
import type { TraceEvent } from '../../inspection.js';
import type { Cell } from './Cell.js';
import { GATE_TRACE, rareOf } from './parts.js';

/** Send this actor's messages in, and the replies out, to `listener` until unsubscribed. */
export function addTracer(cell: Cell, listener: (event: TraceEvent) => void): () => void {
  const rare = rareOf(cell);
  (rare.tracers ??= new Set()).add(listener);
  cell.gate |= GATE_TRACE;
  return () => {
    const tracers = rare.tracers;
    if (tracers === null || !tracers.delete(listener)) return;
    if (tracers.size === 0) {
      rare.tracers = null;
      cell.gate &= ~GATE_TRACE;
    }
  };
}

export function traceEvent(cell: Cell, event: TraceEvent): void {
  const tracers = cell.rare?.tracers ?? null;
  if (tracers === null) return;
  for (const t of tracers) {
    try {
      t(event);
    } catch (e) {
      cell.core.logger.error({ err: toError(e), actor: cell.id }, 'trace listener threw');
    }
  }
}

export function traceAsk(cell: Cell, msg: CompiledMessage, input: unknown, promise: Promise<unknown>): void {
  const name = msg.name;
  traceEvent(cell, { actor: cell.id, at: Date.now(), dir: 'in', kind: 'ask', message: name, input });
  promise.then(
    (value) => traceEvent(cell, { actor: cell.id, at: Date.now(), dir: 'out', kind: 'reply', message: name, value }),
    (error: unknown) => traceEvent(cell, { actor: cell.id, at: Date.now(), dir: 'out', kind: 'error', message: name, error: toError(error) }),
  );
}
