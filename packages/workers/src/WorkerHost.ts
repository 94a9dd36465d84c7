import { availableParallelism } from 'node:os';
import { MessageChannel, type ResourceLimits } from 'node:worker_threads';
import { type ActorHost, type ActorRef, type ActorSystem, InvalidArgument, ShuttingDown, type StopReason } from '@holdfast/core';
import { Piscina } from 'piscina';
import { z } from 'zod';
import { Link, type LinkType } from './internal/Link.js';
import { Thread } from './internal/Thread.js';
import type { ThreadInit } from './internal/wire.js';

/** Options of {@link createWorkerHost}. */
export interface WorkerHostOptions {
  /** The host's name, in summaries (`workers#2`), logs and errors (default `workers`). */
  readonly name?: string;
  /** Worker threads, each hosting many actors (default: the machine's available parallelism). */
  readonly threads?: number;
  /**
   * Stuck-thread detection. Each thread bumps a counter in shared memory every `beatMs`; a thread
   * whose counter has not moved for `timeoutMs` (a handler in an endless synchronous loop, or one
   * that runs longer than that without returning) is terminated and replaced, and its actors are
   * restarted on a live thread. The main thread checks every `sweepMs`.
   */
  readonly heartbeat?: {
    /** Default 30 000 ms: a synchronous turn may run this long. */
    readonly timeoutMs?: number;
    /** Default `timeoutMs / 4`, between 10 and 1 000 ms. */
    readonly sweepMs?: number;
    /** Default `sweepMs / 2`, at most 100 ms. */
    readonly beatMs?: number;
  };
  /** Memory limits of each thread (Node's `resourceLimits`): an actor that exceeds them loses only its own thread. */
  readonly resourceLimits?: ResourceLimits;
  /** How long `close()` waits for threads to finish before it terminates them (default 2 000 ms). */
  readonly closeTimeoutMs?: number;
  /** Node options for the threads (default: the process's, plus what TypeScript sources need in development). */
  readonly execArgv?: readonly string[];
}

const positive = z.number().positive().finite();
const OptionsSchema = z
  .object({
    name: z.string().min(1).optional(),
    threads: z.number().int().min(1).max(256).optional(),
    heartbeat: z.object({ timeoutMs: positive.optional(), sweepMs: positive.optional(), beatMs: positive.optional() }).strict().optional(),
    resourceLimits: z
      .object({
        maxOldGenerationSizeMb: positive.optional(),
        maxYoungGenerationSizeMb: positive.optional(),
        codeRangeSizeMb: positive.optional(),
        stackSizeMb: positive.optional(),
      })
      .strict()
      .optional(),
    closeTimeoutMs: positive.optional(),
    execArgv: z.array(z.string()).optional(),
  })
  .strict();

/** Where the thread runtime is: its TypeScript source when this module runs from source, built JavaScript otherwise. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const RUNTIME = new URL(FROM_SOURCE ? './internal/workerThread.ts' : './internal/workerThread.js', import.meta.url).href;
const BOOTSTRAP = new URL('./internal/bootstrap.mjs', import.meta.url).href;

/** Options of the process that take a value as the next argument, and that threads accept. */
const WITH_VALUE = new Set(['--conditions', '-C', '--import', '--require', '-r', '--loader', '--experimental-loader']);

/**
 * The Node options of the threads. Threads inherit the process's by default; running from
 * TypeScript source, they also need the `holdfast:source` condition, and an explicit list must
 * leave out what threads refuse (V8 and process-wide options such as `--expose-gc`).
 */
function threadArgv(argv: readonly string[]): string[] | undefined {
  if (!FROM_SOURCE || argv.some((a) => a.includes('holdfast:source'))) return undefined;
  const keep: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const name = a.split('=')[0] as string;
    if (WITH_VALUE.has(name)) {
      keep.push(a);
      if (!a.includes('=') && i + 1 < argv.length) keep.push(argv[++i] as string);
    } else if (a === '--enable-source-maps' || a === '--no-warnings' || a === '--no-deprecation' || a.startsWith('--experimental-')) {
      keep.push(a);
    }
  }
  keep.push('--conditions=holdfast:source');
  return keep;
}

/**
 * A pool of worker threads that hosts actors: many actors per thread, every message of one actor
 * on the thread that owns its state. Threads are piscina's; actor traffic goes over a
 * MessagePort of each thread's own. Make it with {@link createWorkerHost}.
 */
export class WorkerHost implements ActorHost {
  readonly name: string;
  /** How many threads the host keeps running. */
  readonly threads: number;
  readonly #pool: Piscina;
  readonly #beats: Int32Array;
  readonly #slots: Thread[] = [];
  readonly #timeoutMs: number;
  readonly #sweepMs: number;
  readonly #beatMs: number;
  readonly #closeTimeoutMs: number;
  readonly #sweep: ReturnType<typeof setInterval>;
  readonly #links = new Map<ActorSystem, Map<string, Link>>();
  #nextNo = 0;
  #lostCount = 0;
  #closing: Promise<void> | null = null;

  /** @internal Use {@link createWorkerHost}. */
  constructor(options: WorkerHostOptions = {}) {
    const parsed = OptionsSchema.safeParse(options);
    if (!parsed.success) throw new InvalidArgument(`createWorkerHost: ${z.prettifyError(parsed.error)}`, { issues: parsed.error.issues });
    const o = parsed.data;
    this.name = o.name ?? 'workers';
    this.threads = o.threads ?? availableParallelism();
    this.#timeoutMs = o.heartbeat?.timeoutMs ?? 30_000;
    this.#sweepMs = o.heartbeat?.sweepMs ?? Math.min(1_000, Math.max(10, this.#timeoutMs / 4));
    this.#beatMs = o.heartbeat?.beatMs ?? Math.min(100, this.#sweepMs / 2);
    this.#closeTimeoutMs = o.closeTimeoutMs ?? 2_000;
    this.#beats = new Int32Array(new SharedArrayBuffer(4 * this.threads));
    const execArgv = o.execArgv ?? threadArgv(process.execArgv);
    this.#pool = new Piscina({
      filename: BOOTSTRAP,
      name: 'default',
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      // piscina's default ('sync') blocks the thread between tasks, which stops its timers (the heartbeat).
      atomics: 'disabled',
      concurrentTasksPerWorker: 1,
      stricterFIFO: true,
      ...(execArgv !== undefined && { execArgv: [...execArgv] }),
      ...(o.resourceLimits && { resourceLimits: o.resourceLimits }),
    });
    this.#pool.on('error', (e: unknown) => {
      // A thread that failed outside a task; its task's rejection does the recovery.
      process.emitWarning(`worker host '${this.name}': ${e instanceof Error ? e.message : String(e)}`);
    });
    for (let slot = 0; slot < this.threads; slot++) this.#startThread(slot);
    this.#sweep = setInterval(() => this.#checkHeartbeats(), this.#sweepMs);
    this.#sweep.unref();
  }

  /** Where an actor's turns run now, for example `workers#2`. */
  describe(actorId: string): string {
    for (const links of this.#links.values()) {
      const t = links.get(actorId)?.thread;
      if (t) return `${this.name}#${t.no}`;
    }
    return this.name;
  }

  /** Threads that were lost (stuck, out of memory, exited) and replaced so far. */
  get replaced(): number {
    return this.#lostCount;
  }

  /** Threads running now, and how many actors each holds. */
  stats(): {
    readonly threads: ReadonlyArray<{ readonly thread: number; readonly actors: number; readonly inFlight: number; readonly booted: boolean }>;
    readonly replaced: number;
  } {
    return {
      threads: this.#slots.map((t) => ({ thread: t.no, actors: t.load, inFlight: t.inFlight, booted: t.booted })),
      replaced: this.#lostCount,
    };
  }

  /**
   * Stop the threads: each finishes what it is doing (up to `closeTimeoutMs`), then the pool is
   * destroyed (a stuck thread is terminated). `system.shutdown()` calls it for the hosts its
   * actors used, after they stopped.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#sweep);
    await Promise.all(
      this.#slots.map(async (t) => {
        if (!t.alive) return;
        t.control({ op: 'close' });
        t.flush();
        // Wait while the thread finishes, for as long as it keeps beating (a stuck one is terminated).
        let ended = false;
        void t.task?.then(
          () => (ended = true),
          () => (ended = true),
        );
        const until = performance.now() + this.#closeTimeoutMs;
        let beat = Atomics.load(this.#beats, t.slot);
        while (!ended && performance.now() < until) {
          await new Promise((r) => setTimeout(r, 2 * this.#beatMs + 5));
          const now = Atomics.load(this.#beats, t.slot);
          if (now === beat && !ended) break;
          beat = now;
        }
      }),
    );
    for (const t of this.#slots) t.lose(new ShuttingDown(this.name));
    await this.#pool.destroy();
  }

  // ---------------------------------------------------------------- for the stand-ins (internal)

  /** @internal The link of a worker-hosted actor (made on its first start). */
  linkFor(ref: ActorRef, system: ActorSystem, type: LinkType, log: import('@holdfast/core').Logger): Link {
    let links = this.#links.get(system);
    if (links === undefined) {
      const map = new Map<string, Link>();
      links = map;
      this.#links.set(system, map);
      system.events.subscribe((e) => {
        if (e.type !== 'stopped') return;
        const link = map.get(e.actor);
        if (link === undefined) return;
        map.delete(e.actor);
        void link.release(e.reason as StopReason);
      });
    }
    let link = links.get(ref.id);
    if (link === undefined || link.ref !== ref) {
      link = new Link(ref, this, type, system, log);
      links.set(ref.id, link);
    }
    return link;
  }

  /** @internal The live thread with the fewest actors. */
  place(): Thread {
    if (this.#closing !== null) throw new ShuttingDown(this.name);
    let best: Thread | null = null;
    for (const t of this.#slots) if (t.alive && (best === null || t.load < best.load)) best = t;
    if (best === null) throw new Error(`worker host '${this.name}' has no live thread`);
    return best;
  }

  // ---------------------------------------------------------------- threads

  #startThread(slot: number): void {
    const { port1, port2 } = new MessageChannel();
    const t = new Thread(++this.#nextNo, slot, port1, this.#beats, this.#beatMs);
    t.lastBeat = Atomics.load(this.#beats, slot);
    this.#slots[slot] = t;
    const init: ThreadInit = { port: port2, beats: this.#beats, slot, beatMs: this.#beatMs, thread: t.no, runtime: RUNTIME };
    t.task = this.#pool.run(init, { transferList: [port2] as never, signal: t.abort.signal });
    t.task.then(
      () => {
        if (this.#closing === null) this.#lose(t, new Error(`worker thread ${t.no} ended`));
      },
      (e: unknown) => {
        if (this.#closing === null) this.#lose(t, e instanceof Error ? e : new Error(String(e)));
      },
    );
  }

  #lose(t: Thread, cause: Error): void {
    if (!t.alive || this.#closing !== null) return;
    this.#lostCount++;
    // Terminate it if it still runs (stuck): piscina ends a worker whose task is aborted.
    t.abort.abort(cause);
    t.lose(cause);
    this.#startThread(t.slot);
  }

  #checkHeartbeats(): void {
    const now = performance.now();
    for (const t of this.#slots) {
      if (!t.alive) continue;
      const beat = Atomics.load(this.#beats, t.slot);
      if (beat !== t.lastBeat) {
        t.lastBeat = beat;
        t.lastChange = now;
        t.booted = true;
        continue;
      }
      const silent = now - t.lastChange;
      // A thread still booting (loading its modules) gets longer: it has not started beating.
      const limit = t.booted ? this.#timeoutMs : Math.max(this.#timeoutMs, 30_000);
      if (silent >= limit) {
        this.#lose(t, new Error(`worker thread ${t.no} showed no heartbeat for ${Math.round(silent)} ms (timeout ${limit} ms)`));
      }
    }
  }
}

/**
 * Make a pool of worker threads for CPU-heavy actors. Pass it as `host` when spawning an actor
 * type made with `workerActor`; `system.shutdown()` closes it.
 *
 * @example
 * ```ts
 * const host = createWorkerHost({ threads: 2, heartbeat: { timeoutMs: 1_000 } });
 * const hasher = system.spawn(Hasher, { id: 'h1', host });
 * await hasher.ask('digest', { data });
 * ```
 */
export function createWorkerHost(options: WorkerHostOptions = {}): WorkerHost {
  return new WorkerHost(options);
}
