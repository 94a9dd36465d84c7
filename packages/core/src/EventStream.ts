/** Stop receiving from an {@link EventStream}. Calling it twice is harmless. */
export type Unsubscribe = () => void;

/**
 * A synchronous stream of events that any number of listeners can subscribe to. A listener that
 * throws does not stop the others; its error is reported through `onListenerError`.
 *
 * @example
 * ```ts
 * const off = system.events.subscribe((e) => { if (e.type === 'crashed') console.log(e.actor); });
 * off();
 * ```
 */
export class EventStream<T> {
  #listeners: Array<(event: T) => void> = [];
  #count = 0;
  readonly #onListenerError: (error: unknown, event: T) => void;

  constructor(onListenerError: (error: unknown, event: T) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  /** Call `listener` with every later event; returns the function that unsubscribes it. */
  subscribe(listener: (event: T) => void): Unsubscribe {
    // Copy on write, so that emit can iterate a stable array while listeners come and go.
    this.#listeners = [...this.#listeners, listener];
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /** How many events were emitted since the stream was made. */
  get count(): number {
    return this.#count;
  }

  /** How many listeners are subscribed now. */
  get listenerCount(): number {
    return this.#listeners.length;
  }

  /** Deliver `event` to every listener, in subscription order. */
  /**
   * @internal Count an event nobody listens to without making it (`listenerCount` is 0): for
   * events made on hot paths, such as every spawn's.
   */
  tally(): void {
    this.#count++;
  }

  emit(event: T): void {
    this.#count++;
    const ls = this.#listeners;
    for (let i = 0; i < ls.length; i++) {
      try {
        (ls[i] as (event: T) => void)(event);
      } catch (err) {
        this.#onListenerError(err, event);
      }
    }
  }
}
