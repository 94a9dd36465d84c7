/**
 * `@holdfast/core/testing`: a manual clock and helpers for testing actors without sleeping.
 *
 * @example
 * ```ts
 * import { createTestSystem } from '@holdfast/core/testing';
 * const { system, clock } = createTestSystem();
 * ```
 * @module @holdfast/core/testing
 */
export { createTestSystem, type TestSystem } from './createTestSystem.js';
export { ManualClock, settle } from './ManualClock.js';
