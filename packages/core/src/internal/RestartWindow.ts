/**
 * Restart intensity over a sliding window, as OTP counts it: restarts older than `withinMs`
 * (a restart exactly `withinMs` ago included) no longer count; a new one is allowed while fewer
 * than `maxRestarts` remain.
 */
export class RestartWindow {
  readonly #times: number[] = [];

  constructor(
    readonly maxRestarts: number,
    readonly withinMs: number,
  ) {}

  /** Record a restart at `now` when the limit allows it; false when it would be one too many. */
  admit(now: number): boolean {
    this.#prune(now);
    if (this.#times.length >= this.maxRestarts) return false;
    this.#times.push(now);
    return true;
  }

  /** Restarts inside the window at `now`. */
  count(now: number): number {
    this.#prune(now);
    return this.#times.length;
  }

  /** Forget every restart (a restarted steward starts with a clean slate, as in OTP). */
  reset(): void {
    this.#times.length = 0;
  }

  #prune(now: number): void {
    const since = now - this.withinMs;
    let drop = 0;
    while (drop < this.#times.length && (this.#times[drop] as number) <= since) drop++;
    if (drop > 0) this.#times.splice(0, drop);
  }
}
