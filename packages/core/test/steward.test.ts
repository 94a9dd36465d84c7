import { describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../src/index.js';
import { createTestSystem } from '../src/testing/index.js';
import { makeWorker, rejection, tick } from './fixtures.js';

type Ev = LifecycleEvent;
/** Events as short strings: `type:actor[:reason]`, for exact sequences. */
const brief = (events: Ev[]) =>
  events.map((e) => {
    const reason = 'reason' in e ? `:${e.reason}` : '';
    return `${e.type}:${e.actor}${reason}`;
  });

async function settle(times = 3) {
  for (let i = 0; i < times; i++) await tick();
}

describe('steward strategies', () => {
  it('one-for-one restarts only the failed child, keeping its ref and id; queued messages reach the new incarnation', async () => {
    const log: string[] = [];
    const { system, events } = createTestSystem();
    const { Worker } = makeWorker(log);
    const s = system.steward('s', { strategy: 'one-for-one' });
    const [a, b, c] = ['a', 'b', 'c'].map((id) => s.spawn(Worker, { id }));
    for (const r of [a, b, c]) await r?.ask('bump', {});
    log.length = 0;
    const seen = events.length;
    const crashed = rejection(b!.ask('crash', {}));
    const queued = b!.ask('get', {});
    const err = await crashed;
    expect(err.code).toBe('ACTOR_CRASHED');
    expect(err.details).toMatchObject({ actor: 'b', reason: 'threw', decision: 'restart', incarnation: 1 });
    expect(await queued).toEqual({ id: 'b', inc: 2, n: 0 });
    expect(await a!.ask('get', {})).toEqual({ id: 'a', inc: 1, n: 1 });
    expect(await c!.ask('get', {})).toEqual({ id: 'c', inc: 1, n: 1 });
    expect(log).toEqual(['b#1:stop:restarting', 'b#2:start']);
    expect(brief(events.slice(seen))).toEqual(['crashed:b:threw', 'restarting:b:threw', 'restarted:b', 'started:b']);
    expect(system.lookup('b')).toBe(b);
    await system.shutdown();
  });

  it("one-for-all restarts every child: the others' onStop runs in reverse order, starts run in order, their in-flight callers get ACTOR_STOPPED sibling-restart", async () => {
    const log: string[] = [];
    const { system } = createTestSystem();
    const { Worker } = makeWorker(log);
    const s = system.steward('s', { strategy: 'one-for-all' });
    const [a, b, c] = ['a', 'b', 'c'].map((id) => s.spawn(Worker, { id }));
    for (const r of [a, b, c]) await r?.ask('bump', {});
    log.length = 0;
    const inFlight = rejection(c!.ask('hang', {})); // c is busy in a turn when b fails
    const queuedOnC = c!.ask('get', {});
    await settle();
    const err = await rejection(b!.ask('crash', {}));
    expect(err.details).toMatchObject({ decision: 'restart' });
    const stopped = await inFlight;
    expect(stopped.code).toBe('ACTOR_STOPPED');
    expect(stopped.details).toEqual({ actor: 'c', reason: 'sibling-restart' });
    expect(await queuedOnC).toEqual({ id: 'c', inc: 2, n: 0 });
    expect(log).toEqual(['c#1:stop:sibling-restart', 'b#1:stop:restarting', 'a#1:stop:sibling-restart', 'a#2:start', 'b#2:start', 'c#2:start']);
    for (const r of [a, b]) expect(await r!.ask('get', {})).toMatchObject({ inc: 2, n: 0 });
    await system.shutdown();
  });

  it('rest-for-one restarts the failed child and the ones started after it, not the ones before', async () => {
    const log: string[] = [];
    const { system } = createTestSystem();
    const { Worker } = makeWorker(log);
    const s = system.steward('s', { strategy: 'rest-for-one' });
    const refs = ['a', 'b', 'c', 'd'].map((id) => s.spawn(Worker, { id }));
    log.length = 0;
    await rejection(refs[1]!.ask('crash', {}));
    await settle();
    expect(log).toEqual(['d#1:stop:sibling-restart', 'c#1:stop:sibling-restart', 'b#1:stop:restarting', 'b#2:start', 'c#2:start', 'd#2:start']);
    expect((await refs[0]!.ask('get', {})).inc).toBe(1);
    expect(await Promise.all(refs.slice(1).map(async (r) => (await r.ask('get', {})).inc))).toEqual([2, 2, 2]);
    await system.shutdown();
  });

  it('restart types: permanent is restarted after a normal exit, transient only after a crash, temporary never', async () => {
    const log: string[] = [];
    const { system, events } = createTestSystem();
    const { Worker } = makeWorker(log);
    const s = system.steward('s');
    const perm = s.spawn(Worker, { id: 'perm' });
    const trans = s.spawn(Worker, { id: 'trans', restart: 'transient' });
    const temp = s.spawn(Worker, { id: 'temp', restart: 'temporary' });

    await perm.ask('exit', {});
    expect(await perm.ask('get', {})).toMatchObject({ inc: 2 });

    await rejection(trans.ask('crash', {}));
    expect(await trans.ask('get', {})).toMatchObject({ inc: 2 });
    await trans.ask('exit', {});
    const queued = rejection(trans.ask('get', {}));
    expect((await queued).details).toEqual({ actor: 'trans', reason: 'normal' });

    const err = await rejection(temp.ask('crash', {}));
    expect(err.details).toMatchObject({ decision: 'stop' });
    await settle();
    expect((await rejection(temp.ask('get', {}))).code).toBe('ACTOR_STOPPED');

    expect(events.filter((e) => e.type === 'stopped').map((e) => `${e.actor}:${(e as { reason: string }).reason}`)).toEqual(['trans:normal', 'temp:stopped']);
    expect(system.tree().children.map((c) => (c.kind === 'steward' ? c.name : c.id))).toEqual(['s']);
    expect(s.inspect().children.map((c) => (c.kind === 'actor' ? `${c.id}#${c.incarnation}` : c.name))).toEqual(['perm#2']);
    await system.shutdown();
  });

  it('a child stopped from outside is never restarted, whatever its type, and leaves the tree', async () => {
    const { system } = createTestSystem();
    const { Worker } = makeWorker([]);
    const s = system.steward('s');
    const a = s.spawn(Worker, { id: 'a' });
    s.spawn(Worker, { id: 'b' });
    await system.stop(a);
    await settle();
    expect(s.inspect().children.map((c) => (c.kind === 'actor' ? c.id : c.name))).toEqual(['b']);
    expect((await rejection(a.ask('get', {}))).details).toEqual({ actor: 'a', reason: 'stopped' });
    await system.shutdown();
  });
});

describe('restart intensity and escalation', () => {
  it('past its limit a steward stops its children in reverse order and escalates; the parent restarts it with its children in order', async () => {
    const log: string[] = [];
    const { system, clock, events } = createTestSystem();
    const { Worker } = makeWorker(log);
    const s = system.steward('s', { intensity: { maxRestarts: 2, withinMs: 1_000 } });
    const [a, b, c] = ['a', 'b', 'c'].map((id) => s.spawn(Worker, { id }));
    await b!.ask('bump', {});
    const decisions: string[] = [];
    for (let i = 0; i < 3; i++) {
      const err = await rejection(a!.ask('crash', {}));
      decisions.push((err.details as { decision: string }).decision);
      await settle();
      await clock.advanceAsync(100);
    }
    expect(decisions).toEqual(['restart', 'restart', 'escalate']);
    const afterEscalation = log.slice(log.indexOf('a#3:start') + 1);
    expect(afterEscalation).toEqual(['c#1:stop:escalated', 'b#1:stop:escalated', 'a#3:stop:escalated', 'a#4:start', 'b#2:start', 'c#2:start']);
    const tail = brief(events.slice(events.findIndex((e) => e.type === 'crashed' && e.incarnation === 3)));
    expect(tail).toEqual([
      'crashed:a:threw',
      'stopped:c:escalated',
      'stopped:b:escalated',
      'stopped:a:escalated',
      'escalated:s',
      'restarting:s:escalated',
      'restarted:s',
      'restarted:a',
      'started:a',
      'restarted:b',
      'started:b',
      'restarted:c',
      'started:c',
    ]);
    expect(events.find((e) => e.type === 'escalated')).toMatchObject({ actor: 's', actorType: 'steward', restarts: 2, withinMs: 1_000, to: 'root' });
    // Same refs, fresh state; the restarted steward counts from zero again.
    expect(await b!.ask('get', {})).toEqual({ id: 'b', inc: 2, n: 0 });
    expect(s.inspect()).toMatchObject({ incarnation: 2, restartsInWindow: 0, status: 'running' });
    expect((await rejection(c!.ask('crash', {}))).details).toMatchObject({ decision: 'restart' });
    await system.shutdown();
  });

  it('restarts spaced exactly the window apart never accumulate; one inside the window does', async () => {
    const { system, clock } = createTestSystem();
    const { Worker } = makeWorker([]);
    const s = system.steward('s', { intensity: { maxRestarts: 1, withinMs: 1_000 } });
    const a = s.spawn(Worker, { id: 'a' });
    for (let i = 0; i < 5; i++) {
      const err = await rejection(a.ask('crash', {}));
      expect((err.details as { decision: string }).decision).toBe('restart');
      await settle();
      await clock.advanceAsync(1_000);
    }
    await rejection(a.ask('crash', {}));
    await settle();
    await clock.advanceAsync(999);
    const err = await rejection(a.ask('crash', {}));
    expect((err.details as { decision: string }).decision).toBe('escalate');
    await system.shutdown();
  });

  it('a three-level tree escalates level by level, and the root reports fatal past its own limit', async () => {
    const { system, events } = createTestSystem({ rootIntensity: { maxRestarts: 1, withinMs: 60_000 } });
    const { Worker } = makeWorker([]);
    const top = system.steward('top', { intensity: { maxRestarts: 1, withinMs: 60_000 } });
    const mid = top.steward('mid', { intensity: { maxRestarts: 0, withinMs: 60_000 } });
    const x = mid.spawn(Worker, { id: 'x' });
    expect(mid.path).toBe('root/top/mid');
    const escalations = () => events.filter((e) => e.type === 'escalated' || e.type === 'fatal').map((e) => `${e.type}:${e.actor}`);

    // 1: mid may not restart anything: it escalates; top restarts mid (and x with it).
    expect((await rejection(x.ask('crash', {}))).details).toMatchObject({ decision: 'escalate' });
    await settle(5);
    expect(escalations()).toEqual(['escalated:mid']);
    expect(await x.ask('get', {})).toMatchObject({ inc: 2 });

    // 2: mid escalates again; top is past its limit: it escalates to the root, which restarts top.
    await rejection(x.ask('crash', {}));
    await settle(5);
    expect(escalations()).toEqual(['escalated:mid', 'escalated:mid', 'escalated:top']);
    expect(await x.ask('get', {})).toMatchObject({ inc: 3 });
    expect(system.fatal).toBeNull();

    // 3 and 4: the restarted top counts afresh (1 allowed); the next escalation to the root is past the root's limit.
    await rejection(x.ask('crash', {}));
    await settle(5);
    await rejection(x.ask('crash', {}));
    await settle(8);
    expect(escalations()).toEqual(['escalated:mid', 'escalated:mid', 'escalated:top', 'escalated:mid', 'escalated:mid', 'escalated:top', 'fatal:top']);
    const fatal = events.find((e) => e.type === 'fatal');
    expect(fatal?.type === 'fatal' && fatal.error.message).toMatch(/steward 'top' failed more than 1 times within 60000 ms/);
    expect(system.fatal).toBe(fatal?.type === 'fatal' ? fatal.error : undefined);
    expect(top.status).toBe('stopped');
    expect((await rejection(x.ask('get', {}))).details).toEqual({ actor: 'x', reason: 'gave-up' });
    expect(system.tree().children).toEqual([]);
    await system.shutdown();
  });

  it('an actor made with system.spawn has a limit of its own: past it, it alone is stopped (gave-up)', async () => {
    const { system, events } = createTestSystem();
    const { Worker } = makeWorker([]);
    const flappy = system.spawn(Worker, { id: 'flappy', intensity: { maxRestarts: 1, withinMs: 1_000 } });
    const calm = system.spawn(Worker, { id: 'calm' });
    await rejection(flappy.ask('crash', {}));
    const err = await rejection(flappy.ask('crash', {}));
    expect(err.details).toMatchObject({ decision: 'stop' });
    await settle();
    expect(events.filter((e) => e.type === 'gave-up').map((e) => e.actor)).toEqual(['flappy']);
    expect(await calm.ask('bump', {})).toBe(1);
    expect(system.fatal).toBeNull();
    await system.shutdown();
  });
});

describe('backoff and messages while down', () => {
  it('delays restarts by min(maxMs, minMs × factor^(n−1)) × (1 + jitter × (2u − 1)), holding messages meanwhile', async () => {
    const { system, clock, events } = createTestSystem({ random: () => 0.75 });
    const { Worker } = makeWorker([]);
    const s = system.steward('s', {
      intensity: { maxRestarts: 10, withinMs: 60_000 },
      backoff: { minMs: 100, maxMs: 1_000, factor: 2, jitter: 0.5 },
    });
    const a = s.spawn(Worker, { id: 'a' });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      await rejection(a.ask('crash', {}));
      await settle();
      const restarting = events.filter((e) => e.type === 'restarting').at(-1) as Extract<Ev, { type: 'restarting' }>;
      delays.push(restarting.delayMs);
      const held = a.ask('get', {}, { timeoutMs: 60_000 });
      let answered = false;
      void held.then(() => {
        answered = true;
      });
      await clock.advanceAsync(restarting.delayMs - 1);
      expect(answered).toBe(false);
      await clock.advanceAsync(1);
      expect(await held).toMatchObject({ inc: i + 2 });
    }
    // u = 0.75 → ×1.25: 100·1.25, 200·1.25, 400·1.25, 800·1.25, then the cap 1 000·1.25.
    expect(delays).toEqual([125, 250, 500, 1_000, 1_250]);
    await expect(system.inspect(a).then((snap) => snap.history.map((h) => h.delayMs))).resolves.toEqual([125, 250, 500, 1_000, 1_250]);
    await system.shutdown();
  });

  it("whileDown 'refuse': asks fail with ACTOR_STOPPED (restarting) and tells become dead letters until the restart", async () => {
    const { system, clock, deadLetters } = createTestSystem();
    const { Worker } = makeWorker([]);
    const s = system.steward('s', { backoff: { minMs: 500, maxMs: 500, jitter: 0 }, whileDown: 'refuse' });
    const a = s.spawn(Worker, { id: 'a' });
    await rejection(a.ask('crash', {}));
    await settle();
    const err = await rejection(a.ask('get', {}));
    expect(err.code).toBe('ACTOR_STOPPED');
    expect(err.details).toEqual({ actor: 'a', reason: 'restarting' });
    a.tell('bump', {});
    expect(deadLetters.map((d) => `${d.message}:${d.reason}`)).toEqual(['bump:restarting']);
    await clock.advanceAsync(500);
    expect(await a.ask('get', {})).toEqual({ id: 'a', inc: 2, n: 0 });
    await system.shutdown();
  });
});

describe('order, shutdown timeouts and inspection', () => {
  it('starts children in order and stops them in reverse order, depth first, on shutdown', async () => {
    const log: string[] = [];
    const { system } = createTestSystem();
    const { Worker } = makeWorker(log);
    const s1 = system.steward('s1');
    s1.spawn(Worker, { id: 'a' });
    const s2 = s1.steward('s2');
    s2.spawn(Worker, { id: 'b' });
    s2.spawn(Worker, { id: 'c' });
    s1.spawn(Worker, { id: 'd' });
    system.spawn(Worker, { id: 'e' });
    await settle();
    expect(log).toEqual(['a#1:start', 'b#1:start', 'c#1:start', 'd#1:start', 'e#1:start']);
    log.length = 0;
    await system.shutdown();
    expect(log).toEqual(['e#1:stop:shutdown', 'd#1:stop:shutdown', 'c#1:stop:shutdown', 'b#1:stop:shutdown', 'a#1:stop:shutdown']);
  });

  it("abandons a child's onStop past its stopTimeoutMs, reports it, and goes on to the next child", async () => {
    const log: string[] = [];
    const { system, clock, events } = createTestSystem();
    const { Worker } = makeWorker(log);
    const { Worker: Stuck } = makeWorker([]);
    const s = system.steward('s');
    s.spawn(Worker, { id: 'first' });
    const StuckStop = { ...Stuck, behaviour: { ...Stuck.behaviour, onStop: () => new Promise<void>(() => {}) } };
    s.spawn(StuckStop, { id: 'stuck', stopTimeoutMs: 200 });
    log.length = 0;
    let done = false;
    const stopping = s.stop().then(() => {
      done = true;
    });
    await clock.advanceAsync(199);
    expect(done).toBe(false);
    expect(log).toEqual([]);
    await clock.advanceAsync(1);
    await stopping;
    expect(log).toEqual(['first#1:stop:stopped']);
    expect(events.find((e) => e.type === 'error')).toMatchObject({ actor: 'stuck', where: 'onStop' });
    expect(s.status).toBe('stopped');
    await system.shutdown();
  });

  it('keeps a restart history per child and shows the tree', async () => {
    const { system, clock } = createTestSystem();
    const { Worker } = makeWorker([]);
    const s = system.steward('s', { strategy: 'one-for-all' });
    const a = s.spawn(Worker, { id: 'a' });
    s.spawn(Worker, { id: 'b' });
    await clock.advanceAsync(50);
    await rejection(a.ask('crash', {}));
    await settle();
    const snap = await system.inspect('b');
    expect(snap).toMatchObject({ steward: 's', incarnation: 2, restarts: 1 });
    expect(snap.history).toEqual([{ at: 50, incarnation: 1, reason: 'sibling-restart', decision: 'restart', delayMs: 0, error: null }]);
    expect((await system.inspect(a)).history).toEqual([{ at: 50, incarnation: 1, reason: 'threw', decision: 'restart', delayMs: 0, error: 'crash requested' }]);
    expect(system.tree()).toMatchObject({
      kind: 'steward',
      name: 'root',
      children: [
        {
          kind: 'steward',
          name: 's',
          path: 'root/s',
          strategy: 'one-for-all',
          restartsInWindow: 1,
          children: [
            { kind: 'actor', id: 'a', incarnation: 2, restarts: 1 },
            { kind: 'actor', id: 'b', incarnation: 2, restarts: 1 },
          ],
        },
      ],
    });
    await system.shutdown();
  });

  it('refuses bad steward options and taken names with INVALID_ARGUMENT, changing nothing', () => {
    const { system } = createTestSystem();
    const bad: Array<[string, object]> = [
      ['x', { strategy: 'one-for-some' }],
      ['x', { intensity: { maxRestarts: -1 } }],
      ['x', { backoff: { minMs: 10, maxMs: 5 } }],
      ['x', { heartbeat: { sweepMs: 0 } }],
      ['x', { whileDown: 'drop' }],
      ['root', {}],
      ['a/b', {}],
    ];
    for (const [name, opts] of bad) expect(() => system.steward(name, opts)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    system.steward('s');
    expect(() => system.steward('s')).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/exists/) }));
    expect(system.tree().children.map((c) => (c.kind === 'steward' ? c.name : c.id))).toEqual(['s']);
  });
});

describe('fine points', () => {
  it('a child that fails while its steward is escalating stays down and comes back with the steward', async () => {
    const log: string[] = [];
    const { system, events } = createTestSystem();
    const { Worker } = makeWorker(log);
    const { Worker: SlowStop } = makeWorker(log);
    let openStop!: () => void;
    const stopGate = new Promise<void>((r) => {
      openStop = r;
    });
    const Slow = { ...SlowStop, behaviour: { ...SlowStop.behaviour, onStop: () => stopGate } };
    const s = system.steward('s', { intensity: { maxRestarts: 0, withinMs: 1_000 } });
    const a = s.spawn(Worker, { id: 'a' });
    const b = s.spawn(Worker, { id: 'b' });
    const c = s.spawn(Slow, { id: 'c' });
    await rejection(c.ask('crash', {})); // past the limit at once: the steward stops c (slowly), then b, then a
    await settle();
    expect(s.status).toBe('restarting');
    const err = await rejection(b.ask('crash', {})); // b fails while the steward is down
    expect(err.details).toMatchObject({ decision: 'restart' });
    openStop();
    await settle(8);
    expect(events.filter((e) => e.type === 'escalated').map((e) => e.actor)).toEqual(['s']);
    expect(s.status).toBe('running');
    for (const [ref, id] of [
      [a, 'a'],
      [b, 'b'],
      [c, 'c'],
    ] as const)
      expect(await ref.ask('get', {})).toEqual({ id, inc: 2, n: 0 });
    await system.shutdown();
  });

  it('ctx.stop() of an actor made with system.spawn: permanent is restarted, transient stops with reason normal', async () => {
    const { system, events } = createTestSystem();
    const { Worker } = makeWorker([]);
    const p = system.spawn(Worker, { id: 'p' });
    const t = system.spawn(Worker, { id: 't', restart: 'transient' });
    await p.ask('exit', {});
    await t.ask('exit', {});
    await settle();
    expect(await p.ask('get', {})).toEqual({ id: 'p', inc: 2, n: 0 });
    expect((await rejection(t.ask('get', {}))).details).toEqual({ actor: 't', reason: 'normal' });
    expect(events.filter((e) => e.type === 'restarting').map((e) => `${e.actor}:${e.reason}`)).toEqual(['p:normal']);
    await system.shutdown();
  });

  it('a steward that is stopped takes no new children; a stopped one is gone from the tree', async () => {
    const { system } = createTestSystem();
    const { Worker } = makeWorker([]);
    const s = system.steward('s');
    const a = s.spawn(Worker, { id: 'a' });
    await s.stop();
    expect(() => s.spawn(Worker, { id: 'b' })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/stopped/) }));
    expect(() => s.steward('t')).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect((await rejection(a.ask('get', {}))).details).toEqual({ actor: 'a', reason: 'stopped' });
    expect(system.tree().children).toEqual([]);
    // The name is free again.
    expect(system.steward('s').status).toBe('running');
    await system.shutdown();
  });
});
