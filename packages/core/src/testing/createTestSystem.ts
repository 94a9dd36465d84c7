import { type ActorSystem, createSystem } from '../createSystem.js';
import type { DeadLetter, LifecycleEvent } from '../events.js';
import type { SystemOptions } from '../options.js';
import { ManualClock } from './ManualClock.js';

/** What {@link createTestSystem} returns. */
export interface TestSystem {
  readonly system: ActorSystem;
  readonly clock: ManualClock;
  /** Every lifecycle event so far, in order. */
  readonly events: LifecycleEvent[];
  /** Every dead letter so far, in order. */
  readonly deadLetters: DeadLetter[];
  /**
   * The first event (already seen or still to come) that matches. Rejects after `realTimeoutMs`
   * of real time (default 2 000) so that a test never hangs.
   */
  waitForEvent<T extends LifecycleEvent['type']>(
    type: T,
    match?: (e: Extract<LifecycleEvent, { type: T }>) => boolean,
    realTimeoutMs?: number,
  ): Promise<Extract<LifecycleEvent, { type: T }>>;
}

/**
 * A system on a {@link ManualClock} that records its events and dead letters.
 *
 * @example
 * ```ts
 * const { system, clock, waitForEvent } = createTestSystem();
 * const ref = system.spawn(Counter, { id: 'c' });
 * await waitForEvent('started', (e) => e.actor === 'c');
 * ```
 */
export function createTestSystem(options: Omit<SystemOptions, 'clock'> & { readonly clock?: ManualClock } = {}): TestSystem {
  const clock = options.clock ?? new ManualClock();
  const system = createSystem({ name: 'test', ...options, clock });
  const events: LifecycleEvent[] = [];
  const deadLetters: DeadLetter[] = [];
  system.events.subscribe((e) => events.push(e));
  system.deadLetters.subscribe((d) => deadLetters.push(d));
  const waitForEvent: TestSystem['waitForEvent'] = (type, match, realTimeoutMs = 2_000) => {
    type E = Extract<LifecycleEvent, { type: typeof type }>;
    const test = (e: LifecycleEvent): e is E => e.type === type && (match === undefined || match(e as E));
    const seen = events.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<E>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`waitForEvent('${type}'): no matching event within ${realTimeoutMs} ms`));
      }, realTimeoutMs);
      const off = system.events.subscribe((e) => {
        if (!test(e)) return;
        clearTimeout(timer);
        off();
        resolve(e);
      });
    });
  };
  return { system, clock, events, deadLetters, waitForEvent };
}
