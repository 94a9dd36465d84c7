import type { MessagePort } from 'node:worker_threads';
import {
  type ActorDefinition,
  type ActorRef,
  type AnyProtocol,
  Cancelled,
  createSystem,
  isHoldfastError,
  type Logger,
  type StopReason,
  type SystemOptions,
} from '@holdfast/core';
import { DEFAULTS, hostSeam, PROGRESS_HOOK, START_INCARNATION, type StewardDelegate } from '@holdfast/core/host';
import { WorkerError } from '../errors.js';
import { Batch } from './Batch.js';
import { ensureTypeScript } from './typescript.js';
import {
  ASK,
  CANCEL,
  type Control,
  CRASHED,
  FAIL,
  fromWorkerSize,
  type LogLevel,
  REPLY,
  type Report,
  SIZE,
  TELL,
  type ThreadInit,
  type ToWorkerBatch,
  toWire,
  UNCOPYABLE,
  type WorkerActorSettings,
} from './wire.js';

/** One actor on this thread. */
interface ActorOnThread {
  readonly actorNo: number;
  readonly id: string;
  ref: ActorRef | null;
  /** Asks whose caller may cancel them, by sequence number. */
  readonly cancels: Map<number, AbortController>;
}

/**
 * The worker thread's side: a core system of its own, whose one steward reports its actors'
 * failures to the main thread instead of deciding (the actor's steward there decides, and tells
 * this thread to end, start or stop the incarnation). FIFO, one turn at a time, `defer`, `reject`,
 * timers and hang detection of async turns are the core's, as in-thread.
 *
 * The task resolves when the main thread closes the port's conversation (`close`).
 */
export async function runThread(init: ThreadInit): Promise<void> {
  const { port, beats, beatMs } = init;
  // The heartbeat: a counter in shared memory, read by the main thread however busy it is.
  Atomics.add(beats, 0, 1);
  const beat = setInterval(() => Atomics.add(beats, 0, 1), beatMs);
  const outbox = new Outbox(port);
  const byNo = new Map<number, ActorOnThread>();
  const byId = new Map<string, ActorOnThread>();
  const numberOf = (id: unknown): number => (typeof id === 'string' ? (byId.get(id)?.actorNo ?? 0) : 0);

  // Progress is also every turn that ends and every ctx.heartbeat(): a burst of long turns runs
  // in one macrotask, where the interval above cannot fire, and must not look stuck.
  const progress = () => Atomics.add(beats, 0, 1);
  const options: SystemOptions & { [PROGRESS_HOOK]: () => void } = {
    [PROGRESS_HOOK]: progress,
    turnObserver: { sampleEvery: 1, observe: progress },
    name: `worker-${init.thread}`,
    logger: forwardingLogger(outbox, numberOf, {}),
    // Inputs were checked on the main thread before they were queued; replies are checked here,
    // at the thread boundary, so that a bad one crashes the turn that made it.
    validate: { input: false, reply: true },
    heartbeat: { timeoutMs: DEFAULTS.hangTimeoutMs, sweepMs: 100 },
  };
  const system = createSystem(options);
  const seam = hostSeam(system);
  system.events.subscribe((e) => {
    const actor = numberOf(e.actor);
    if (actor === 0) return;
    if (e.type === 'hung') outbox.post({ op: 'hung', actor, message: e.message ?? '', silentMs: e.silentMs, timeoutMs: e.timeoutMs });
    else if (e.type === 'error') outbox.post({ op: 'error', actor, where: e.where, error: toWire(e.error) });
    else if (e.type === 'late-reply') outbox.post({ op: 'late', actor, message: e.message });
  });
  system.deadLetters.subscribe((d) => {
    const actor = numberOf(d.actor);
    if (actor !== 0) outbox.post({ op: 'dead', actor, message: d.message, input: d.input, reason: d.reason, wasAsk: d.wasAsk });
  });
  const delegate: StewardDelegate = {
    // Provisional: the caller's error is rewritten on the main thread with the real decision.
    decide: (_child, exit) => (exit === 'normal' ? 'stop' : 'restart'),
    act: (child, _decision, reason, cause) => {
      const h = byId.get(child.id);
      if (h === undefined) return;
      const e = cause === null ? null : toWire((cause as Error).cause ?? cause);
      // After the failed ask's own reply, which is posted from a promise reaction queued just before.
      queueMicrotask(() => outbox.post({ op: 'down', actor: h.actorNo, kind: reason === 'normal' ? 'exit' : 'crash', reason, error: e }));
    },
  };
  const steward = seam.delegatedSteward('thread', { heartbeat: { timeoutMs: DEFAULTS.hangTimeoutMs, sweepMs: 100 } }, delegate);

  let closed!: () => void;
  const done = new Promise<void>((resolve) => {
    closed = resolve;
  });

  async function spawn(op: Extract<Control, { op: 'spawn' }>): Promise<void> {
    const h: ActorOnThread = { actorNo: op.actor, id: op.id, ref: null, cancels: new Map() };
    byNo.set(op.actor, h);
    byId.set(op.id, h);
    try {
      await ensureTypeScript(op.module);
      const mod = (await import(op.module)) as { default?: unknown };
      const def = mod.default as ActorDefinition | undefined;
      if (def?.kind !== 'actor')
        throw new WorkerError('BAD_BEHAVIOUR_MODULE', `${op.module}: the default export must be an actor definition made with defineActor()`, {
          module: op.module,
        });
      if (def.protocol.name !== op.protocol)
        throw new WorkerError(
          'BAD_BEHAVIOUR_MODULE',
          `${op.module}: its actor speaks protocol '${def.protocol.name}', but the worker actor was declared with '${op.protocol}'`,
          {
            module: op.module,
            protocol: def.protocol.name,
            declared: op.protocol,
          },
        );
      h.ref = steward.spawn(def as unknown as ActorDefinition<AnyProtocol, unknown, unknown>, settingsFor(op.id, op.args, op.settings) as never);
      outbox.post({ op: 'spawned', actor: op.actor });
    } catch (e) {
      byNo.delete(op.actor);
      byId.delete(op.id);
      outbox.post({ op: 'spawned', actor: op.actor, error: toWire(e) });
    }
  }

  function ask(h: ActorOnThread, s: number, m: string, input: unknown, timeoutMs: number, cancellable: boolean): void {
    let signal: AbortSignal | null = null;
    if (cancellable) {
      const controller = new AbortController();
      h.cancels.set(s, controller);
      signal = controller.signal;
    }
    seam.ask(
      h.ref as ActorRef,
      m,
      input,
      timeoutMs,
      signal,
      (v: unknown) => {
        if (signal !== null) h.cancels.delete(s);
        outbox.reply(s, v);
      },
      (e: unknown) => {
        if (signal !== null) h.cancels.delete(s);
        outbox.fail(s, toWire(e), isHoldfastError(e, 'ACTOR_CRASHED') && e.details.actor === h.id);
      },
    );
  }

  function control(op: Control): void {
    if (op.op === 'close') {
      void system.shutdown({ timeoutMs: 1_000 }).finally(() => {
        clearInterval(beat);
        outbox.flush();
        port.close();
        closed();
      });
      return;
    }
    if (op.op === 'spawn') {
      void spawn(op);
      return;
    }
    if (op.op === 'preload') {
      // A failure shows at spawn, where it can be reported to the actor's steward.
      void ensureTypeScript(op.module)
        .then(() => import(op.module))
        .catch(() => {});
      return;
    }
    const h = byNo.get(op.actor);
    const ref = h?.ref ?? null;
    if (h === undefined || ref === null) {
      // Gone already (it failed to start, or stopped): answer what waits for an answer.
      if (op.op === 'end') outbox.post({ op: 'ended', actor: op.actor });
      else if (op.op === 'stop') outbox.post({ op: 'stopped', actor: op.actor });
      return;
    }
    switch (op.op) {
      case 'end':
        // A stop or restart asked for from outside lets the running turn finish, as in-thread;
        // the steward's own restarts (a sibling's crash, an escalation, shutdown) cut it off.
        void (op.reason === 'stopped' || op.reason === 'restarting' ? seam.endAtBoundary(ref, op.reason) : seam.terminate(ref, op.reason, null)).finally(() =>
          outbox.post({ op: 'ended', actor: op.actor }),
        );
        break;
      case 'start':
        seam.reincarnate(ref);
        break;
      case 'stop':
        void seam.stopFor(ref, op.reason as StopReason, null).finally(() => {
          byNo.delete(op.actor);
          byId.delete(h.id);
          outbox.post({ op: 'stopped', actor: op.actor });
        });
        break;
    }
  }

  port.on('message', (batch: ToWorkerBatch) => {
    for (let k = 0; k < batch.length; ) {
      const head = batch[k];
      if (head === ASK) {
        const h = byNo.get(batch[k + 1] as number);
        const s = batch[k + 2] as number;
        if (h?.ref) ask(h, s, batch[k + 3] as string, batch[k + 4], batch[k + 5] as number, batch[k + 6] === 1);
        else outbox.fail(s, toWire(new WorkerError('NOT_ON_THREAD', `actor #${String(batch[k + 1])} is not on this thread`, {})), false);
        k += SIZE.ASK;
      } else if (head === TELL) {
        byNo.get(batch[k + 1] as number)?.ref?.tell(batch[k + 2] as never, batch[k + 3] as never);
        k += SIZE.TELL;
      } else if (head === CANCEL) {
        const held = byNo.get(batch[k + 1] as number);
        held?.cancels.get(batch[k + 2] as number)?.abort(new Cancelled(held.ref?.id ?? '', '', 'cancelled by the caller'));
        k += SIZE.CANCEL;
      } else {
        control(head as Control);
        k += 1;
      }
    }
    // The turns this batch started, now; and their replies out before the event loop turns.
    seam.runReady();
    outbox.flush();
  });
  await done;
}

function settingsFor(id: string, args: unknown, s: WorkerActorSettings): Record<string | symbol, unknown> {
  return {
    id,
    args,
    [START_INCARNATION]: s.incarnation,
    // The stand-in keeps at most `capacity` messages in flight here: room for all of them.
    mailbox: { capacity: s.capacity + 1, overflow: 'reject' },
    heartbeat: { timeoutMs: s.hangTimeoutMs },
    stopTimeoutMs: s.stopTimeoutMs,
    validate: { input: false, reply: true },
  };
}

/** What this thread posts to the main thread: replies, failures and reports, batched per burst. */
class Outbox {
  readonly #out: Batch;

  constructor(port: MessagePort) {
    this.#out = new Batch(port, fromWorkerSize, (one, e) => {
      // Say what could not cross instead: the caller, the dead letter and the log line still arrive.
      const head = one[0];
      if (head === REPLY) {
        this.#out.items.push(FAIL, one[1], { name: 'DataCloneError', message: e.message }, UNCOPYABLE);
      } else if (typeof head === 'object' && head !== null) {
        const m = head as Report;
        if (m.op === 'dead') this.#out.items.push({ ...m, input: `[not copyable: ${e.message}]` });
        else if (m.op === 'log') this.#out.items.push({ ...m, obj: { note: `log fields not copyable: ${e.message}` } });
      }
      this.#out.queue();
    });
  }

  reply(s: number, v: unknown): void {
    this.#out.items.push(REPLY, s, v);
    this.#out.queue();
  }

  fail(s: number, e: unknown, crash: boolean): void {
    this.#out.items.push(FAIL, s, e, crash ? CRASHED : 0);
    this.#out.queue();
  }

  post(m: Report): void {
    this.#out.items.push(m);
    this.#out.queue();
  }

  flush(): void {
    this.#out.flush();
  }
}

/** A logger that sends its lines to the main thread, where the actor's logger writes them. */
function forwardingLogger(outbox: Outbox, numberOf: (id: unknown) => number, bindings: Record<string, unknown>): Logger {
  const write = (level: LogLevel) => (obj: object, msg?: string) => {
    const fields: Record<string, unknown> = { ...bindings, ...obj };
    for (const [k, v] of Object.entries(fields)) if (v instanceof Error) fields[k] = toWire(v);
    outbox.post(
      msg === undefined
        ? { op: 'log', actor: numberOf(fields.actor), level, obj: fields }
        : { op: 'log', actor: numberOf(fields.actor), level, obj: fields, msg },
    );
  };
  return {
    trace: write('trace'),
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    fatal: write('fatal'),
    child: (more) => forwardingLogger(outbox, numberOf, { ...bindings, ...more }),
  };
}
