import { unknownKey } from './checkKeys.js';
import { AskTimeout, Cancelled, InvalidArgument } from './errors.js';
import { GATHER_KEYS } from './internal/optionKeys.js';

/** A piece of work for {@link gather} or {@link firstReply}: usually an ask that passes the signal on. */
export type Task<T> = (signal: AbortSignal) => Promise<T>;

/** Options of {@link gather} and {@link firstReply}. */
export interface GatherOptions {
  /** One deadline for the whole (default: none beyond each ask's own). */
  readonly timeoutMs?: number;
  /** Give up on the whole when this aborts. */
  readonly signal?: AbortSignal;
  /** Names the whole in its errors (default `gather` / `first-reply`). */
  readonly name?: string;
}

/**
 * Fork-join: start every task at once with one shared signal and gather the results, in task
 * order. The first failure rejects at once and aborts the signal, so the other asks are
 * cancelled (their handlers see `ctx.signal` abort); past `timeoutMs` the whole fails with
 * `ASK_TIMEOUT` the same way; the caller's `signal` cancels it with `CANCELLED`.
 *
 * @example
 * ```ts
 * const balances = await gather(accounts.map((a) => (signal) => a.ask('balance', {}, { signal })), { timeoutMs: 500 });
 * ```
 */
export function gather<T>(tasks: ReadonlyArray<Task<T>>, options: GatherOptions = {}): Promise<T[]> {
  const name = options.name ?? 'gather';
  return run<T[]>(name, tasks, options, (controller, settle) => {
    const results = new Array<T>(tasks.length);
    let left = tasks.length;
    if (left === 0) settle(() => [] as T[]);
    tasks.forEach((task, i) => {
      start(task, controller.signal).then(
        (value) => {
          results[i] = value;
          if (--left === 0) settle(() => results);
        },
        (error: unknown) => settle(() => Promise.reject(error)),
      );
    });
  });
}

/**
 * The first reply wins: start every task at once (replicas of the same request), answer with the
 * first success and cancel the rest through their signals. Fails only when every task fails
 * (with an `AggregateError` of their errors, in task order), past `timeoutMs` (`ASK_TIMEOUT`), or
 * when the caller's `signal` aborts (`CANCELLED`).
 *
 * @example
 * ```ts
 * const value = await firstReply(replicas.map((r) => (signal) => r.ask('get', { key }, { signal })), { timeoutMs: 200 });
 * ```
 */
export function firstReply<T>(tasks: ReadonlyArray<Task<T>>, options: GatherOptions = {}): Promise<T> {
  const name = options.name ?? 'first-reply';
  if (tasks.length === 0) return Promise.reject(new InvalidArgument(`${name}: no tasks`));
  return run<T>(name, tasks, options, (_controller, settle) => {
    const errors = new Array<unknown>(tasks.length);
    let left = tasks.length;
    // Each replica has its own signal: the winner's must not abort, the losers' must.
    const own = tasks.map(() => new AbortController());
    const cancelLosers = (winner: number) => {
      own.forEach((c, i) => {
        if (i !== winner) c.abort(new Cancelled(name, `replica ${i}`));
      });
    };
    tasks.forEach((task, i) => {
      start(task, (own[i] as AbortController).signal).then(
        (value) => {
          cancelLosers(i);
          settle(() => value);
        },
        (error: unknown) => {
          errors[i] = error;
          if (--left === 0) settle(() => Promise.reject(new AggregateError(errors, `${name}: every task failed`)));
        },
      );
    });
    return (reason: unknown) => {
      for (const c of own) c.abort(reason);
    };
  });
}

/** Call a task, turning a synchronous throw into a rejection. */
function start<T>(task: Task<T>, signal: AbortSignal): Promise<T> {
  try {
    return Promise.resolve(task(signal));
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * The frame both helpers share: one controller for the whole, a deadline, the caller's signal,
 * and a `settle` that takes effect once (and aborts whatever still runs).
 */
function run<R>(
  name: string,
  tasks: ReadonlyArray<unknown>,
  options: GatherOptions,
  body: (controller: AbortController, settle: (outcome: () => R | Promise<R>) => void) => ((reason: unknown) => void) | undefined | void,
): Promise<R> {
  const unknown = unknownKey(name, options, GATHER_KEYS);
  if (unknown !== null) return Promise.reject(unknown);
  const { timeoutMs, signal } = options;
  if (timeoutMs !== undefined && (!(timeoutMs > 0) || !Number.isFinite(timeoutMs))) {
    return Promise.reject(new InvalidArgument(`${name}: timeoutMs must be a positive finite number, got ${timeoutMs}`));
  }
  if (signal?.aborted) return Promise.reject(new Cancelled(name, `${tasks.length} tasks`, signal.reason));
  return new Promise<R>((resolve, reject) => {
    const controller = new AbortController();
    let done = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let abortOthers: ((reason: unknown) => void) | undefined;
    const onAbort = () => finish(() => Promise.reject(new Cancelled(name, `${tasks.length} tasks`, signal?.reason)));
    function finish(outcome: () => R | Promise<R>): void {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      const result = Promise.resolve().then(outcome);
      // Whatever still runs is no longer wanted.
      // On failure, whatever still runs is no longer wanted.
      result.then(undefined, (error: unknown) => {
        controller.abort(error);
        abortOthers?.(error);
      });
      result.then(resolve, reject);
    }
    if (timeoutMs !== undefined) timer = setTimeout(() => finish(() => Promise.reject(new AskTimeout(name, `${tasks.length} tasks`, timeoutMs))), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    abortOthers = body(controller, finish) ?? undefined;
  });
}
