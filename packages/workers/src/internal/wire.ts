import { errorFromJSON, isHoldfastError, type SerializedError, type StopReason } from '@holdfast/core';

/**
 * The messages between the main thread and a worker thread, over the thread's own MessagePort.
 * Each post carries a batch (an array), so a burst of asks costs one structured clone and one
 * wake-up per side, not one per message.
 */

/** An error as it crosses the thread boundary: a Holdfast error's JSON form, or a plain error's. */
export type WireError = SerializedError | { readonly name: string; readonly message: string; readonly stack?: string };

/**
 * The hot messages travel flat, as an opcode and a fixed number of slots in the batch array
 * (no object per message to build, copy and collect); the rare ones as one object each.
 *
 * Main → worker: `ASK a s m i t c` · `TELL a m i` · `CANCEL a s`, or a {@link Control} object.
 * `a` is the actor's number on that thread, `s` an ask's sequence number, `t` the caller's
 * remaining wait in ms, `c` 1 when the caller may cancel (a `CANCEL` may follow).
 */
export const ASK = 1;
export const TELL = 2;
export const CANCEL = 3;
/** Worker → main: `REPLY s v` · `FAIL s e flag` (0, {@link CRASHED} or {@link UNCOPYABLE}), or a {@link Report} object. */
export const REPLY = 1;
export const FAIL = 2;

/** How many slots each flat message takes in a batch, its opcode included (a rare message is one object: 1). */
export const SIZE = {
  ASK: 7,
  TELL: 4,
  CANCEL: 3,
  REPLY: 3,
  FAIL: 4,
} as const;
/** Slots of the message at the head of a batch from the main thread. */
export const toWorkerSize = (head: unknown): number => (head === ASK ? SIZE.ASK : head === TELL ? SIZE.TELL : head === CANCEL ? SIZE.CANCEL : 1);
/** Slots of the message at the head of a batch from a worker thread. */
export const fromWorkerSize = (head: unknown): number => (head === REPLY ? SIZE.REPLY : head === FAIL ? SIZE.FAIL : 1);
/** The flag of a `FAIL`: the ask failed because its actor crashed in that turn (the main thread's steward decides what the caller is told). */
export const CRASHED = 1;
/** The flag of a `FAIL`: the reply could not be copied to the main thread (`e` says why). */
export const UNCOPYABLE = 2;

/** A batch from the main thread: flat hot messages and control objects, in order. */
export type ToWorkerBatch = Array<number | string | unknown>;
/** A batch from a worker thread. */
export type FromWorkerBatch = Array<number | string | unknown>;

/** Main → worker, rare. */
export type Control =
  | {
      readonly op: 'spawn';
      readonly actor: number;
      readonly id: string;
      readonly module: string;
      readonly protocol: string;
      readonly args: unknown;
      readonly settings: WorkerActorSettings;
    }
  | { readonly op: 'end'; readonly actor: number; readonly reason: StopReason }
  | { readonly op: 'start'; readonly actor: number }
  | { readonly op: 'stop'; readonly actor: number; readonly reason: StopReason }
  /** Import a behaviour module ahead of need (a spare thread, kept warm for replacements). */
  | { readonly op: 'preload'; readonly module: string }
  | { readonly op: 'close' };

/** Worker → main, rare. */
export type Report =
  | { readonly op: 'spawned'; readonly actor: number; readonly error?: WireError }
  | { readonly op: 'ended'; readonly actor: number }
  | { readonly op: 'stopped'; readonly actor: number }
  | { readonly op: 'down'; readonly actor: number; readonly kind: 'crash' | 'exit'; readonly reason: string; readonly error: WireError | null }
  | { readonly op: 'hung'; readonly actor: number; readonly message: string; readonly silentMs: number; readonly timeoutMs: number }
  | { readonly op: 'error'; readonly actor: number; readonly where: string; readonly error: WireError }
  | { readonly op: 'late'; readonly actor: number; readonly message: string }
  | { readonly op: 'dead'; readonly actor: number; readonly message: string; readonly input: unknown; readonly reason: string; readonly wasAsk: boolean }
  | { readonly op: 'log'; readonly actor: number; readonly level: LogLevel; readonly obj: Record<string, unknown>; readonly msg?: string };

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** What the worker needs to run one actor like its stand-in on the main thread. */
export interface WorkerActorSettings {
  /** The stand-in's incarnation: the actor starts there, on a fresh thread too. */
  readonly incarnation: number;
  readonly capacity: number;
  readonly hangTimeoutMs: number;
  readonly stopTimeoutMs: number;
}

/** What the bootstrap task of a worker thread receives. */
export interface ThreadInit {
  readonly port: import('node:worker_threads').MessagePort;
  /** The thread's heartbeat: `beats[0]` goes up every `beatMs`. */
  readonly beats: Int32Array;
  readonly beatMs: number;
  readonly thread: number;
  /** The worker runtime's module (TypeScript source in development, built JavaScript otherwise). */
  readonly runtime: string;
}

export function toWire(e: unknown): WireError {
  if (isHoldfastError(e)) return e.toJSON();
  if (e instanceof Error) return e.stack === undefined ? { name: e.name, message: e.message } : { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: typeof e === 'string' ? e : safeJson(e) };
}

export function fromWire(w: WireError): Error {
  if ('code' in w && typeof w.code === 'string') return errorFromJSON(w as SerializedError);
  const e = new Error(w.message);
  if (w.name !== 'Error') Object.defineProperty(e, 'name', { value: w.name, configurable: true, writable: true });
  if (w.stack !== undefined) e.stack = w.stack;
  return e;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
