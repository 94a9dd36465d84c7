/** A timer handle returned by a {@link Clock}. */
export interface TimerHandle {
  /** Let the process exit while this timer is pending (no-op on clocks without a process). */
  unref?(): void;
  /** Keep the process alive while this timer is pending. */
  ref?(): void;
}

/**
 * Time as the system sees it: the current time and one-shot timers. Inject a
 * `ManualClock` (from `@holdfast/core/testing`) to run timeouts, timers and heartbeats in tests
 * without sleeping.
 *
 * @example
 * ```ts
 * const system = createSystem({ name: 'app', clock: systemClock });
 * ```
 */
export interface Clock {
  /** Milliseconds on a monotonic scale (only differences matter). */
  now(): number;
  /** Call `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancel a timer from `setTimeout`; cancelling twice or after it fired is harmless. */
  clearTimeout(handle: TimerHandle): void;
  /**
   * True when reading the clock is costly enough that the system may reuse one reading for a
   * burst of asks (at most 64, never across a macrotask). Leave it unset for exact reads.
   */
  readonly cacheable?: boolean;
}

/** The real clock: `performance.now()` and Node's timers. */
export const systemClock: Clock = {
  // A clock read costs ~90 ns on some virtual machines: more than the rest of an ask.
  cacheable: true,
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
