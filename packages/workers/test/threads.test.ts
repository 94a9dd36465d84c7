import { createSystem, type LifecycleEvent, type Logger } from '@holdfast/core';
import { describe, expect, it } from 'vitest';
import { createWorkerHost, workerActor } from '../src/index.js';
import { probeBehaviour } from './fixtures/probe.js';
import { ProbeProtocol } from './fixtures/protocols.js';
import { outcome, sleep, until, WorkerProbe } from './helpers.js';

describe('worker threads', () => {
  it('finds a stuck thread by its heartbeat, terminates and replaces it; actors on other threads keep state and answer', async () => {
    const system = createSystem({ name: 'stuck' });
    const events: LifecycleEvent[] = [];
    system.events.subscribe((e) => events.push(e));
    const host = createWorkerHost({ threads: 2, heartbeat: { timeoutMs: 500, sweepMs: 50 } });
    const a = system.spawn(WorkerProbe, { id: 'a', host });
    const b = system.spawn(WorkerProbe, { id: 'b', host });
    expect(await a.ask('add', { by: 1 })).toBe(1);
    expect(await b.ask('add', { by: 100 })).toBe(100);
    expect(system.actors().map((s) => [s.id, s.host])).toEqual([
      ['a', 'workers#1'],
      ['b', 'workers#2'],
    ]);

    const started = performance.now();
    const stuck = outcome(a.ask('spin', { ms: -1 }, { timeoutMs: 20_000 }));
    const behind = outcome(a.ask('add', { by: 1 }, { timeoutMs: 20_000 }));
    let stop = false;
    let answers = 0;
    let errors = 0;
    const others = (async () => {
      while (!stop) {
        try {
          await b.ask('add', { by: 1 });
          answers++;
        } catch {
          errors++;
        }
        await sleep(5);
      }
    })();
    const lost = await stuck;
    const detectedAfter = performance.now() - started;
    stop = true;
    await others;

    // The stuck turn's caller, and the ask queued behind it on that thread, fail at once.
    expect(lost).toMatchObject({ code: 'WORKER_LOST', details: { actor: 'a', worker: 1 } });
    expect((lost as { cause: Error }).cause.message).toMatch(/^worker thread 1 showed no heartbeat for \d+ ms \(timeout 500 ms\)$/);
    expect((lost as { cause: { code: string; details: unknown } }).cause).toMatchObject({ code: 'THREAD_STUCK', details: { thread: 1, timeoutMs: 500 } });
    expect(await behind).toMatchObject({ code: 'WORKER_LOST', details: { actor: 'a', worker: 1 } });
    // Not before the timeout (less one beat), and long before the ask's own 20 s deadline.
    expect(detectedAfter).toBeGreaterThanOrEqual(500 - 25);
    expect(detectedAfter).toBeLessThan(5_000);
    // During the stall the other thread's actor answered every ask and kept its state.
    expect(errors).toBe(0);
    expect(answers).toBeGreaterThan(0);
    expect(await b.ask('get', {})).toBe(100 + answers);

    // `a` restarted on the replacement thread, from fresh state, as its second incarnation.
    expect(await a.ask('get', {})).toBe(0);
    expect(await a.ask('incarnation', {})).toBe(2);
    expect(host.stats()).toEqual({
      threads: [
        { thread: 3, actors: 1, inFlight: 0, booted: expect.any(Boolean) },
        { thread: 2, actors: 1, inFlight: 0, booted: true },
      ],
      // The spare (thread 3) took over at once; thread 4 is the new spare.
      spare: { thread: 4, booted: expect.any(Boolean) },
      replaced: 1,
    });
    expect(system.actors().map((s) => [s.id, s.host, s.incarnation])).toEqual([
      ['a', 'workers#3', 2],
      ['b', 'workers#2', 1],
    ]);
    const crash = events.find((e) => e.type === 'crashed' && e.actor === 'a');
    expect(crash).toMatchObject({ reason: 'worker-lost', decision: 'restart' });
    expect(events.filter((e) => e.type === 'crashed' && e.actor === 'b')).toEqual([]);
    expect(await system.shutdown()).toMatchObject({ clean: true });
  });

  it('progress is every turn and every ctx.heartbeat(): a burst of long turns, or one long turn that beats, is not stuck', async () => {
    const system = createSystem({ name: 'progress' });
    const host = createWorkerHost({ threads: 1, heartbeat: { timeoutMs: 300, sweepMs: 20 } });
    const p = system.spawn(WorkerProbe, { id: 'p', host });
    await p.ask('get', {});
    // Eight 150 ms turns run back to back (1.2 s without the thread's event loop turning).
    const spins = await Promise.all(Array.from({ length: 8 }, () => outcome(p.ask('spin', { ms: 150 }))));
    expect(spins.every((r) => 'ok' in r)).toBe(true);
    // One 1 s turn that calls ctx.heartbeat() every 50 ms.
    expect(await p.ask('work', { ms: 1_000, beatEveryMs: 50 })).toBeGreaterThanOrEqual(15);
    expect(host.stats().replaced).toBe(0);
    // The same turn without beats is stuck.
    expect(await outcome(p.ask('work', { ms: 1_000, beatEveryMs: 5_000 }))).toMatchObject({ code: 'WORKER_LOST' });
    expect(host.stats().replaced).toBe(1);
    await system.shutdown();
  });

  it('a handler that throws fails only its own turn and actor: the thread and its other actors live on', async () => {
    const system = createSystem({ name: 'throws' });
    const host = createWorkerHost({ threads: 1 });
    const a = system.spawn(WorkerProbe, { id: 'a', host });
    const c = system.spawn(WorkerProbe, { id: 'c', host });
    await a.ask('add', { by: 7 });
    expect(await outcome(c.ask('boom', { message: 'bad' }))).toMatchObject({ code: 'ACTOR_CRASHED', details: { actor: 'c', reason: 'threw' } });
    expect(await a.ask('get', {})).toBe(7);
    expect(await c.ask('get', {})).toBe(0);
    expect(host.stats()).toMatchObject({ threads: [{ thread: 1, actors: 2 }], replaced: 0 });
    await system.shutdown();
  });

  it('transfers buffers named in `transfer` (the caller’s copy is detached) and copies the rest', async () => {
    const system = createSystem({ name: 'transfer' });
    const host = createWorkerHost({ threads: 1 });
    const p = system.spawn(WorkerProbe, { id: 'p', host });
    const moved = new Uint8Array(64 * 1024).fill(7);
    expect(await p.ask('bytes', { data: moved }, { transfer: [moved.buffer] })).toBe(64 * 1024);
    expect(moved.byteLength).toBe(0);
    const copied = new Uint8Array(1024).fill(7);
    expect(await p.ask('bytes', { data: copied })).toBe(1024);
    expect(copied.byteLength).toBe(1024);
    expect(await outcome(p.ask('bytes', { data: copied }, { transfer: 'no' as never }))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    await system.shutdown();
  });

  it('an input or a reply that cannot be copied across threads fails only its own ask, with the reason', async () => {
    const system = createSystem({ name: 'clone' });
    const host = createWorkerHost({ threads: 1 });
    const p = system.spawn(WorkerProbe, { id: 'p', host });
    await p.ask('get', {});
    // Three asks in one batch: the middle one carries a function.
    const [a, b, c] = await Promise.all([outcome(p.ask('typeOf', { v: 1 })), outcome(p.ask('typeOf', { v: () => 1 })), outcome(p.ask('typeOf', { v: 'x' }))]);
    expect(a).toEqual({ ok: 'number' });
    expect(b).toMatchObject({
      code: 'INVALID_MESSAGE',
      details: { actor: 'p', message: 'typeOf', issues: [{ path: [], message: expect.stringMatching(/^cannot be copied to a worker thread \(/) }] },
    });
    expect(c).toEqual({ ok: 'string' });
    const errors: LifecycleEvent[] = [];
    system.events.subscribe((e) => e.type === 'error' && errors.push(e));
    expect(await outcome(p.ask('typeOf', { v: 'fn' }))).toMatchObject({
      code: 'INVALID_REPLY',
      details: { actor: 'p', message: 'typeOf', issues: [{ path: [], message: expect.stringMatching(/^cannot be copied to the main thread \(/) }] },
    });
    expect(errors).toMatchObject([{ actor: 'p', where: "reply to 'typeOf'" }]);
    // The actor goes on, with its state.
    expect(await p.ask('incarnation', {})).toBe(1);
    expect(await p.ask('get', {})).toBe(0);
    await system.shutdown();
  });

  it('an actor that runs out of memory loses only its own thread (resourceLimits)', async () => {
    const system = createSystem({ name: 'oom' });
    const host = createWorkerHost({ threads: 2, resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 } });
    const a = system.spawn(WorkerProbe, { id: 'a', host });
    const b = system.spawn(WorkerProbe, { id: 'b', host });
    await a.ask('add', { by: 1 });
    await b.ask('add', { by: 5 });
    const r = await outcome(a.ask('hog', {}, { timeoutMs: 20_000 }));
    expect(r).toMatchObject({ code: 'WORKER_LOST', details: { actor: 'a', worker: 1 } });
    // WORKER_LOST, caused by the thread's end (THREAD_ENDED), caused by Node's out-of-memory error.
    const cause = (r as { cause: { code?: string; cause?: { code?: string } } }).cause;
    expect([cause.code, cause.cause?.code]).toEqual(['THREAD_ENDED', 'ERR_WORKER_OUT_OF_MEMORY']);
    expect(await b.ask('get', {})).toBe(5);
    expect(await a.ask('get', {})).toBe(0);
    expect(host.stats().replaced).toBe(1);
    await system.shutdown();
  });

  it('shutdown with a stuck thread completes within the drain deadline', async () => {
    const system = createSystem({ name: 'drain-stuck' });
    const events: LifecycleEvent[] = [];
    system.events.subscribe((e) => events.push(e));
    const host = createWorkerHost({ threads: 2, heartbeat: { timeoutMs: 400, sweepMs: 50 } });
    const a = system.spawn(WorkerProbe, { id: 'a', host });
    const b = system.spawn(WorkerProbe, { id: 'b', host });
    await Promise.all([a.ask('get', {}), b.ask('get', {})]);
    const stuck = outcome(a.ask('spin', { ms: -1 }, { timeoutMs: 20_000 }));
    const work = b.ask('slow', { tag: 'w', ms: 100 });
    await sleep(20);
    const report = await system.shutdown({ timeoutMs: 3_000 });
    expect(await stuck).toMatchObject({ code: 'WORKER_LOST' });
    expect(await work).toBe('w');
    expect(report.clean).toBe(true);
    expect(report.durationMs).toBeLessThan(3_000);
  });

  it('shutdown past the drain deadline does not wait on a thread stuck longer than its heartbeat timeout', async () => {
    const system = createSystem({ name: 'drain-deadline' });
    const host = createWorkerHost({ threads: 1, heartbeat: { timeoutMs: 60_000 } });
    const a = system.spawn(WorkerProbe, { id: 'a', host });
    await a.ask('get', {});
    const stuck = outcome(a.ask('spin', { ms: -1 }, { timeoutMs: 60_000 }));
    await sleep(20);
    const report = await system.shutdown({ timeoutMs: 500 });
    expect(report).toMatchObject({ clean: false, unfinished: [{ id: 'a', deferred: 1 }] });
    expect(await stuck).toMatchObject({ code: 'ACTOR_STOPPED', details: { actor: 'a', reason: 'shutdown' } });
    // The drain deadline, then the stop without waiting for the busy thread, then its termination.
    expect(report.durationMs).toBeLessThan(500 + 2_000);
  });

  it('a thread’s log lines reach the main thread’s logger, tagged with the actor and its thread', async () => {
    const lines: Array<{ level: string; obj: Record<string, unknown>; msg?: string }> = [];
    const capture = (bindings: Record<string, unknown>): Logger => {
      const at = (level: string) => (obj: object, msg?: string) => lines.push({ level, obj: { ...bindings, ...obj }, ...(msg !== undefined && { msg }) });
      return {
        trace: at('trace'),
        debug: at('debug'),
        info: at('info'),
        warn: at('warn'),
        error: at('error'),
        fatal: at('fatal'),
        child: (b) => capture({ ...bindings, ...b }),
      };
    };
    const system = createSystem({ name: 'logs', logger: capture({}) });
    const host = createWorkerHost({ threads: 1 });
    const p = system.spawn(WorkerProbe, { id: 'p', host });
    await p.ask('note', { text: 'hello' });
    await until(() => lines.some((l) => l.msg === 'noted'), 'the log line');
    expect(lines.find((l) => l.msg === 'noted')).toEqual({
      level: 'info',
      obj: { system: 'logs', actor: 'p', type: 'probe', incarnation: 1, text: 'hello', message: 'note', thread: 1 },
      msg: 'noted',
    });
    await system.shutdown();
  });
});

describe('declaring and spawning worker actors', () => {
  it('refuses bad declarations and spawns at once, with INVALID_ARGUMENT', () => {
    const system = createSystem({ name: 'args' });
    expect(() => system.spawn(WorkerProbe, { id: 'x' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('pass { host }') }),
    );
    const host = createWorkerHost({ threads: 1 });
    expect(() => system.spawn(probeBehaviour, { id: 'y', host } as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => workerActor(ProbeProtocol, './relative.ts')).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('absolute path') }),
    );
    expect(() => createWorkerHost({ threads: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('threads') }));
    expect(() => createWorkerHost({ heartbeat: { timeoutMs: -1 } })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(system.actors()).toEqual([]);
    return host.close();
  });

  it.each([
    ['has no actor as its default export', './fixtures/notAnActor.ts', 'the default export must be an actor definition made with defineActor()'],
    ['speaks another protocol', './fixtures/otherProtocol.ts', "its actor speaks protocol 'other', but the worker actor was declared with 'probe'"],
  ])('a behaviour module that %s fails to start, is retried by its steward, then given up', async (_what, path, message) => {
    const system = createSystem({ name: 'bad-module', intensity: { maxRestarts: 1, withinMs: 60_000 } });
    const events: LifecycleEvent[] = [];
    system.events.subscribe((e) => events.push(e));
    const host = createWorkerHost({ threads: 1 });
    const Bad = workerActor(ProbeProtocol, new URL(path, import.meta.url));
    const p = system.spawn(Bad, { id: 'bad', host });
    expect(await outcome(p.ask('get', {}))).toMatchObject({ code: 'ACTOR_STOPPED', details: { actor: 'bad', reason: 'gave-up' } });
    const crashes = events.filter((e) => e.type === 'crashed');
    expect(crashes.map((e) => [(e as { reason: string }).reason, (e as { decision: string }).decision])).toEqual([
      ['start-failed', 'restart'],
      ['start-failed', 'stop'],
    ]);
    expect((crashes[0] as { error: Error }).error.message).toContain(message);
    await system.shutdown();
  });
});

describe('createWorkerHost and workerActor options', () => {
  it('refuse an unknown key, naming it and the nearest known option, before any thread starts', () => {
    const fail = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e as { code: string; details: unknown };
      }
      throw new Error('expected a throw');
    };
    expect(fail(() => createWorkerHost({ threads: 1, timeoutMs: 500 } as never))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { option: 'timeoutMs', suggestion: 'heartbeat.timeoutMs' },
    });
    expect(fail(() => createWorkerHost({ heartbeat: { beatMS: 5 } } as never))).toMatchObject({
      details: { option: 'heartbeat.beatMS', suggestion: 'heartbeat.beatMs' },
    });
    expect(fail(() => workerActor(ProbeProtocol, new URL('./fixtures/probe.ts', import.meta.url), { nam: 'x' } as never))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { option: 'nam', suggestion: 'name' },
    });
  });
});
