// Waiting before trying a moving shard again.

/** A signal that never aborts: a request its caller cannot cancel. */
export const NEVER: AbortSignal = new AbortController().signal;

/** How long to wait before trying a moved shard again: short at first (failover is quick), never past the deadline. */
export function pause(attempt: number, deadline: number, signal: AbortSignal): Promise<void> {
  const ms = Math.min(5 * 2 ** Math.min(attempt, 5), 100, Math.max(0, deadline - Date.now()));
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms * (0.75 + Math.random() * 0.5));
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
