import { availableParallelism } from 'node:os';
import { MessageChannel, type ResourceLimits } from 'node:worker_threads';
import { type ActorHost, type ActorRef, type ActorSystem, InvalidArgument, ShuttingDown, type StopReason } from '@holdfast/core';
import { checkKeys, DEFAULTS, HOST_SEAM_VERSION, hostSeam, keysOf } from '@holdfast/core/host';
import { Piscina } from 'piscina';
import { z } from 'zod';
import { WorkerError } from './errors.js';
import { StandIn, type StandInType } from './internal/StandIn.js';
import { Thread } from './internal/Thread.js';
import type { ThreadInit } from './internal/wire.js';

/** Options of {@link createWorkerHost}. */
export interface WorkerHostOptions {
  /** The host's name, in summaries (`workers#2`), logs and errors (default `workers`). */
  readonly name?: string;
  /**
   * Worker threads that serve actors, each hosting many (default: the machine's available
   * parallelism). One more thread is kept booted as a spare, so that a lost thread's actors
   * restart at once instead of waiting for a thread to start.
   */
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

const HOST_KEYS = keysOf(OptionsSchema);

/** How long a thread that has not beaten yet may take to boot before it is taken for stuck. */
const BOOT_TIMEOUT_MS = 30_000;

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
  /** How many threads serve actors (one more is kept booted as a spare). */
  readonly threads: number;
  readonly #pool: Piscina;
  /** The threads that serve actors, by position. */
  readonly #serving: Thread[] = [];
  /** A booted thread with no actors, which takes over from a lost one at once. */
  #spare: Thread | null = null;
  /** Behaviour modules spawned on this host: the spare imports them ahead of need. */
  readonly #modules = new Set<string>();
  readonly #timeoutMs: number;
  readonly #sweepMs: number;
  readonly #beatMs: number;
  readonly #closeTimeoutMs: number;
  readonly #sweep: ReturnType<typeof setInterval>;
  readonly #standIns = new Map<ActorSystem, Map<string, StandIn>>();
  #nextNo = 0;
  #lostCount = 0;
  #closing: Promise<void> | null = null;

  /** @internal Use {@link createWorkerHost}. */
  constructor(options: WorkerHostOptions = {}) {
    checkKeys('createWorkerHost', options, HOST_KEYS);
    const parsed = OptionsSchema.safeParse(options);
    if (!parsed.success) throw new InvalidArgument(`createWorkerHost: ${z.prettifyError(parsed.error)}`, { issues: parsed.error.issues });
    const o = parsed.data;
    this.name = o.name ?? 'workers';
    this.threads = o.threads ?? availableParallelism();
    this.#timeoutMs = o.heartbeat?.timeoutMs ?? DEFAULTS.hangTimeoutMs;
    this.#sweepMs = o.heartbeat?.sweepMs ?? Math.min(1_000, Math.max(10, this.#timeoutMs / 4));
    this.#beatMs = o.heartbeat?.beatMs ?? Math.min(100, this.#sweepMs / 2);
    this.#closeTimeoutMs = o.closeTimeoutMs ?? 2_000;
    const execArgv = o.execArgv ?? threadArgv(process.execArgv);
    this.#pool = new Piscina({
      filename: BOOTSTRAP,
      name: 'default',
      minThreads: this.threads + 1,
      maxThreads: this.threads + 1,
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
    for (let i = 0; i < this.threads; i++) this.#serving.push(this.#boot());
    this.#spare = this.#boot();
    this.#sweep = setInterval(() => this.#checkHeartbeats(), this.#sweepMs);
    this.#sweep.unref();
  }

  /** Where an actor's turns run now, for example `workers#2`. */
  describe(actorId: string): string {
    for (const standIns of this.#standIns.values()) {
      const t = standIns.get(actorId)?.thread;
      if (t) return `${this.name}#${t.no}`;
    }
    return this.name;
  }

  /** Serving threads up (booted and alive) now, and threads replaced so far: what the service runtime's metrics show. */
  health(): { readonly up: number; readonly replaced: number } {
    return { up: this.#serving.filter((t) => t.alive && t.booted).length, replaced: this.#lostCount };
  }

  /** The serving threads (and how many actors and asks in flight each has), the spare, and how many threads were replaced. */
  stats(): {
    readonly threads: ReadonlyArray<{ readonly thread: number; readonly actors: number; readonly inFlight: number; readonly booted: boolean }>;
    readonly spare: { readonly thread: number; readonly booted: boolean } | null;
    readonly replaced: number;
  } {
    const spare = this.#spare;
    return {
      threads: this.#serving.map((t) => ({ thread: t.no, actors: t.load, inFlight: t.inFlight, booted: t.booted })),
      spare: spare === null ? null : { thread: spare.no, booted: spare.booted },
      replaced: this.#lostCount,
    };
  }

  /**
   * Stop the threads: each finishes what it is doing (up to `closeTimeoutMs`, as long as its
   * heartbeat shows it is not stuck), then the pool is destroyed (a stuck thread is terminated).
   * `system.shutdown()` calls it for the hosts its actors used, after they stopped.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#sweep);
    const all = [...this.#serving, ...(this.#spare ? [this.#spare] : [])];
    await Promise.all(all.map((t) => this.#finish(t)));
    for (const t of all) t.lose(new ShuttingDown(this.name));
    await this.#pool.destroy();
  }

  /** Ask a thread to finish and wait while it does, for as long as it keeps beating. */
  async #finish(t: Thread): Promise<void> {
    if (!t.alive) return;
    t.control({ op: 'close' });
    t.flush();
    let ended = false;
    void t.task?.then(
      () => (ended = true),
      () => (ended = true),
    );
    const until = performance.now() + this.#closeTimeoutMs;
    let beat = t.beat;
    while (!ended && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 2 * this.#beatMs + 5));
      if (t.beat === beat && !ended) return;
      beat = t.beat;
    }
  }

  // ---------------------------------------------------------------- for the stand-ins (internal)

  /** @internal The link of a worker-hosted actor (made on its first start). */
  standInFor(ref: ActorRef, system: ActorSystem, type: StandInType, log: import('@holdfast/core').Logger): StandIn {
    let standIns = this.#standIns.get(system);
    if (standIns === undefined) {
      // A system made by another copy of @holdfast/core than this package was built against.
      const version = hostSeam(system).version;
      if (version !== HOST_SEAM_VERSION) {
        throw new InvalidArgument(
          `worker host '${this.name}': the system's @holdfast/core offers host seam ${String(version)}, this package needs ${HOST_SEAM_VERSION}`,
        );
      }
      const map = new Map<string, StandIn>();
      standIns = map;
      this.#standIns.set(system, map);
      system.events.subscribe((e) => {
        if (e.type !== 'stopped') return;
        const link = map.get(e.actor);
        if (link === undefined) return;
        map.delete(e.actor);
        void link.release(e.reason as StopReason);
      });
    }
    let link = standIns.get(ref.id);
    if (link === undefined || link.ref !== ref) {
      link = new StandIn(ref, this, type, system, log);
      standIns.set(ref.id, link);
    }
    return link;
  }

  /** @internal The live serving thread with the fewest actors; notes the module for the spare. */
  place(module: string): Thread {
    if (this.#closing !== null) throw new ShuttingDown(this.name);
    if (!this.#modules.has(module)) {
      this.#modules.add(module);
      this.#spare?.control({ op: 'preload', module });
    }
    let best: Thread | null = null;
    for (const t of this.#serving) if (t.alive && (best === null || t.load < best.load)) best = t;
    if (best === null) throw new WorkerError('NO_THREAD', `worker host '${this.name}' has no live thread`, { host: this.name });
    return best;
  }

  // ---------------------------------------------------------------- threads

  #boot(): Thread {
    const { port1, port2 } = new MessageChannel();
    const t = new Thread(++this.#nextNo, port1, this.#beatMs);
    t.lastBeat = t.beat;
    const init: ThreadInit = { port: port2, beats: t.beats, beatMs: this.#beatMs, thread: t.no, runtime: RUNTIME };
    t.task = this.#pool.run(init, { transferList: [port2] as never, signal: t.abort.signal });
    t.task.then(
      () => this.#ended(t, new WorkerError('THREAD_ENDED', `worker thread ${t.no} ended`, { thread: t.no })),
      (e: unknown) =>
        this.#ended(
          t,
          new WorkerError('THREAD_ENDED', `worker thread ${t.no} ended: ${e instanceof Error ? e.message : String(e)}`, { thread: t.no }, { cause: e }),
        ),
    );
    for (const module of this.#modules) t.control({ op: 'preload', module });
    return t;
  }

  #ended(t: Thread, cause: Error): void {
    if (this.#closing !== null || !t.alive) return;
    if (t === this.#spare) {
      t.lose(cause);
      this.#spare = this.#boot();
      return;
    }
    this.#lose(t, cause);
  }

  /**
   * A serving thread is gone or stuck: terminate it, put the spare in its place (it is booted and
   * has the modules), boot a new spare, and report its actors crashed (their steward restarts
   * them, on the least loaded thread: the one that just took over).
   */
  #lose(t: Thread, cause: Error): void {
    if (!t.alive || this.#closing !== null) return;
    this.#lostCount++;
    // piscina ends a worker whose task is aborted, even one stuck in a loop.
    t.abort.abort(cause);
    const i = this.#serving.indexOf(t);
    const spare = this.#spare;
    this.#serving[i] = spare?.alive ? spare : this.#boot();
    this.#spare = this.#boot();
    t.lose(cause);
  }

  #checkHeartbeats(): void {
    const now = performance.now();
    for (const t of [...this.#serving, ...(this.#spare ? [this.#spare] : [])]) {
      if (!t.alive) continue;
      const beat = t.beat;
      if (beat !== t.lastBeat) {
        t.lastBeat = beat;
        t.lastChange = now;
        t.booted = true;
        continue;
      }
      const silent = now - t.lastChange;
      // A thread still booting (loading its modules) gets longer: it has not started beating.
      const limit = t.booted ? this.#timeoutMs : Math.max(this.#timeoutMs, BOOT_TIMEOUT_MS);
      if (silent < limit) continue;
      const cause = new WorkerError('THREAD_STUCK', `worker thread ${t.no} showed no heartbeat for ${Math.round(silent)} ms (timeout ${limit} ms)`, {
        thread: t.no,
        silentMs: Math.round(silent),
        timeoutMs: limit,
      });
      if (t === this.#spare) {
        t.abort.abort(cause);
        this.#ended(t, cause);
      } else {
        this.#lose(t, cause);
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
