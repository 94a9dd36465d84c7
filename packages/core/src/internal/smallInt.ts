/** Below this, a whole number is stored as a small integer (a Smi) on every V8 build. */
const SMALL = 0x3fff_ffff;

/**
 * A time in milliseconds as a small integer when it fits (cut to the millisecond, toward zero), so
 * that the many objects storing it (every cell) keep their hidden class and need no number box: a
 * double stored into a field that held small integers changes the hidden class of every object
 * with that field, and the optimized code that knew the old one is thrown away. Times that do
 * not fit (a clock far from 0) are kept as they are.
 */
export function smallMs(t: number): number {
  return t >= 0 && t < SMALL ? t | 0 : t;
}
