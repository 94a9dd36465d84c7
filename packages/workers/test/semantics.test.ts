import { type ActorSystem, createSystem, type DeadLetter, type LifecycleEvent } from '@holdfast/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inThread, onWorkers, outcome, type Placement, type Probe, type ProbeOptions, sleep, until } from './helpers.js';

// The owner loop's rules (DESIGN §3), each case run twice from the same code: against an actor on
// the main thread, and against the same behaviour module hosted on a worker thread.
describe.each([inThread, onWorkers])('semantics ($name)', (placement: Placement) => {
  let system: ActorSystem;
  let place: (options: ProbeOptions) => Probe;
  const events: LifecycleEvent[] = [];
  let n = 0;
  const spawn = (options: ProbeOptions = {}) => place({ id: `${placement.name}-${++n}`, ...options });
  const eventsOf = (id: string, type: LifecycleEvent['type']) => events.filter((e) => e.actor === id && e.type === type);

  beforeAll(() => {
    system = createSystem({ name: `semantics-${placement.name}` });
    system.events.subscribe((e) => events.push(e));
    place = placement.setup(system);
  });
  afterAll(async () => {
    const report = await system.shutdown({ timeoutMs: 5_000 });
    expect(report.clean).toBe(true);
  });

  it('keeps FIFO order per sender, asks and tells interleaved', async () => {
    const p = spawn();
    const replies: Promise<number>[] = [];
    for (let i = 0; i < 300; i++) {
      if (i % 3 === 0) p.tell('log', { tag: `t${i}` });
      else replies.push(p.ask('log', { tag: `a${i}` }));
    }
    await Promise.all(replies);
    const trail = await p.ask('trail', {});
    expect(trail).toEqual(Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? `t${i}` : `a${i}`)));
    // Each ask's reply is its position in the trail: nothing reordered, nothing lost.
    expect(await Promise.all(replies)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1).filter((i) => (i - 1) % 3 !== 0));
  });

  it('runs one turn at a time, even when handlers await', async () => {
    const p = spawn();
    const done = await Promise.all([p.ask('slow', { tag: 'a', ms: 40 }), p.ask('slow', { tag: 'b', ms: 0 }), p.ask('log', { tag: 'c' })]);
    expect(done).toEqual(['a', 'b', 3 + 2]);
    expect(await p.ask('trail', {})).toEqual(['a:start', 'a:end', 'b:start', 'b:end', 'c']);
  });

  it('times out an ask at its deadline, aborts the handler’s signal and counts the late reply once', async () => {
    const p = spawn();
    const before = eventsOf(p.id, 'late-reply').length;
    const counted = system.stats().lateReplies;
    const r = await outcome(p.ask('waitForAbort', {}, { timeoutMs: 100 }));
    expect(r).toMatchObject({ code: 'ASK_TIMEOUT', details: { actor: p.id, message: 'waitForAbort', timeoutMs: 100 } });
    await until(async () => (await p.ask('aborted', {})) === 1, 'the handler to see its signal abort');
    // The handler answered after the deadline: dropped, and reported exactly once.
    await until(() => eventsOf(p.id, 'late-reply').length === before + 1, 'the late reply');
    await sleep(50);
    expect(eventsOf(p.id, 'late-reply').length).toBe(before + 1);
    // Counted by the system wherever the actor runs: stats() and so /metrics see it.
    expect(system.stats().lateReplies).toBe(counted + 1);
    expect(await p.ask('get', {})).toBe(0);
  });

  it('counts dead letters made where the actor runs in the system’s stats, stamped on its clock', async () => {
    const p = spawn({ mailbox: { capacity: 4 } });
    const letters: DeadLetter[] = [];
    const off = system.deadLetters.subscribe((d) => {
      if (d.actor === p.id) letters.push(d);
    });
    const counted = system.stats().deadLetters;
    const from = performance.now();
    expect(await p.ask('flood', { n: 10 })).toBe(10);
    const kept = (await p.ask('trail', {})).length;
    await until(() => letters.length === 10 - kept, 'the dead letters');
    off();
    // Every tell is either in the trail or a dead letter, and each dead letter is counted once.
    expect(kept).toBeGreaterThan(0);
    expect(letters.map((d) => d.reason)).toEqual(Array(10 - kept).fill('mailbox-full'));
    expect(letters.map((d) => d.message)).toEqual(Array(10 - kept).fill('log'));
    expect(system.stats().deadLetters).toBe(counted + 10 - kept);
    for (const d of letters) expect(d.at).toBeGreaterThanOrEqual(from - 1);
    for (const d of letters) expect(d.at).toBeLessThanOrEqual(performance.now() + 1);
  });

  it('cancels through the caller’s AbortSignal, and refuses an already aborted one without queueing', async () => {
    const p = spawn();
    const ac = new AbortController();
    const pending = outcome(p.ask('waitForAbort', {}, { signal: ac.signal }));
    await sleep(30);
    ac.abort(new Error('user left'));
    expect(await pending).toMatchObject({ code: 'CANCELLED', details: { actor: p.id, message: 'waitForAbort' } });
    await until(async () => (await p.ask('aborted', {})) === 1, 'the handler to see its signal abort');
    const turns = (await system.inspect(p)).turns;
    expect(await outcome(p.ask('add', { by: 1 }, { signal: ac.signal }))).toMatchObject({ code: 'CANCELLED' });
    // The refused ask ran no turn and changed nothing.
    expect((await system.inspect(p)).turns).toBe(turns);
    expect(await p.ask('get', {})).toBe(0);
  });

  it('checks input before it is queued: INVALID_MESSAGE with zod issues, nothing runs', async () => {
    const p = spawn();
    await p.ask('add', { by: 2 });
    const turns = (await system.inspect(p)).turns;
    const r = await outcome(p.ask('add', { by: 'x' } as never));
    expect(r).toMatchObject({ code: 'INVALID_MESSAGE', details: { actor: p.id, message: 'add' } });
    expect((r as { details: { issues: { path: string[] }[] } }).details.issues.map((i) => i.path)).toEqual([['by']]);
    expect((await system.inspect(p)).turns).toBe(turns);
    expect(await p.ask('get', {})).toBe(2);
  });

  it('a handler that throws fails its caller at once with ACTOR_CRASHED; queued messages go to the next incarnation', async () => {
    const p = spawn({ args: { start: 10 } });
    const [a, b, c, d] = await Promise.all([
      outcome(p.ask('add', { by: 5 })),
      outcome(p.ask('boom', { message: 'kaput' })),
      outcome(p.ask('add', { by: 1 })),
      outcome(p.ask('incarnation', {})),
    ]);
    expect(a).toEqual({ ok: 15 });
    expect(b).toMatchObject({ code: 'ACTOR_CRASHED', details: { actor: p.id, message: 'boom', reason: 'threw', decision: 'restart', incarnation: 1 } });
    expect((b as { cause: Error }).cause.message).toBe('kaput');
    // Fresh state from init(args) in incarnation 2.
    expect(c).toEqual({ ok: 11 });
    expect(d).toEqual({ ok: 2 });
    expect(eventsOf(p.id, 'crashed').map((e) => (e as { reason: string }).reason)).toEqual(['threw']);
    expect(eventsOf(p.id, 'restarted').length).toBe(1);
  });

  it('a business refusal (REJECTED) keeps the state and the incarnation', async () => {
    const p = spawn();
    await p.ask('add', { by: 3 });
    const r = await outcome(p.ask('refuse', { code: 'NO_FUNDS' }));
    expect(r).toMatchObject({ code: 'REJECTED', details: { reason: 'NO_FUNDS', details: { why: 'refused' } } });
    expect(await p.ask('get', {})).toBe(3);
    expect(await p.ask('incarnation', {})).toBe(1);
  });

  it('defer() ends the turn: the actor keeps serving and the reply comes later', async () => {
    const p = spawn();
    const order: string[] = [];
    const later = p.ask('later', { ms: 80, value: 7 }).then((v) => order.push(`later=${v}`));
    const add = p.ask('add', { by: 1 }).then((v) => order.push(`add=${v}`));
    await Promise.all([later, add]);
    expect(order).toEqual(['add=1', 'later=7']);
  });

  it('a reply that fails its schema crashes the turn (INVALID_REPLY cause)', async () => {
    const p = spawn();
    const r = await outcome(p.ask('badReply', {}));
    expect(r).toMatchObject({ code: 'ACTOR_CRASHED', details: { reason: 'invalid-reply', decision: 'restart' } });
    expect((r as { cause: { code: string } }).cause.code).toBe('INVALID_REPLY');
    expect(await p.ask('incarnation', {})).toBe(2);
  });

  it('rejects past the mailbox capacity with MAILBOX_FULL, at once', async () => {
    const p = spawn({ mailbox: { capacity: 2 } });
    await p.ask('get', {});
    const rs = await Promise.all([outcome(p.ask('add', { by: 1 })), outcome(p.ask('add', { by: 1 })), outcome(p.ask('add', { by: 1 }))]);
    expect(rs).toEqual([{ ok: 1 }, { ok: 2 }, expect.objectContaining({ code: 'MAILBOX_FULL', details: { actor: p.id, capacity: 2, dropped: false } })]);
  });

  it('a normal exit (ctx.stop()) restarts a permanent actor and ends a transient one', async () => {
    const perm = spawn();
    await perm.ask('add', { by: 4 });
    expect(await perm.ask('quit', {})).toBe(4);
    expect(await perm.ask('get', {})).toBe(0);
    expect(await perm.ask('incarnation', {})).toBe(2);
    const trans = spawn({ restart: 'transient' });
    expect(await trans.ask('quit', {})).toBe(0);
    expect(await outcome(trans.ask('get', {}))).toMatchObject({ code: 'ACTOR_STOPPED', details: { actor: trans.id, reason: 'normal' } });
  });

  it('finds a hung async turn: ACTOR_CRASHED (hung), then serves from fresh state', async () => {
    const p = spawn({ heartbeat: { timeoutMs: 200 } });
    await p.ask('add', { by: 9 });
    const r = await outcome(p.ask('hang', {}, { timeoutMs: 4_000 }));
    expect(r).toMatchObject({ code: 'ACTOR_CRASHED', details: { reason: 'hung', message: 'hang', decision: 'restart' } });
    expect(eventsOf(p.id, 'hung').length).toBe(1);
    expect(await p.ask('get', {})).toBe(0);
  });

  it('stop() lets the running turn finish, fails what is queued with ACTOR_STOPPED and refuses later asks', async () => {
    const p = spawn();
    const slow = outcome(p.ask('slow', { tag: 's', ms: 60 }));
    const queued = outcome(p.ask('add', { by: 1 }));
    await sleep(20);
    await system.stop(p);
    expect(await slow).toEqual({ ok: 's' });
    expect(await queued).toMatchObject({ code: 'ACTOR_STOPPED', details: { actor: p.id, reason: 'stopped' } });
    expect(await outcome(p.ask('get', {}))).toMatchObject({ code: 'ACTOR_STOPPED' });
    expect(eventsOf(p.id, 'stopped').length).toBe(1);
  });
});

describe.each([inThread, onWorkers])('shutdown ($name)', (placement: Placement) => {
  it('finishes queued work, refuses new asks with SHUTTING_DOWN, and reports clean', async () => {
    const system = createSystem({ name: `shutdown-${placement.name}` });
    const p = placement.setup(system)({ id: 'p' });
    await p.ask('get', {});
    const queued = [p.ask('slow', { tag: 'x', ms: 50 }), p.ask('add', { by: 1 }), p.ask('add', { by: 1 })];
    const report = system.shutdown({ timeoutMs: 5_000 });
    expect(await outcome(p.ask('get', {}))).toMatchObject({ code: 'SHUTTING_DOWN' });
    expect(await Promise.all(queued)).toEqual(['x', 1, 2]);
    expect(await report).toMatchObject({ clean: true, unfinished: [] });
  });
});
