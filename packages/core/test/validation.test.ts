import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineActor, defineProtocol, isHoldfastError } from '../src/index.js';
import { createTestSystem } from '../src/testing/index.js';
import { Counter, rejection, tick } from './fixtures.js';

describe('validation', () => {
  it('checks the input before it enters the mailbox: INVALID_MESSAGE with zod issues, nothing queued', async () => {
    const { system } = createTestSystem();
    const counter = system.spawn(Counter, { id: 'c' });
    const p = counter.ask('add', { key: 1, by: 1.5 } as never);
    expect(system.actors()[0]?.mailbox).toBe(0);
    const err = await rejection(p);
    expect(err.code).toBe('INVALID_MESSAGE');
    expect(err.details).toMatchObject({
      actor: 'c',
      message: 'add',
      issues: [
        { path: ['key'], code: 'invalid_type' },
        { path: ['by'], code: 'invalid_type' },
      ],
    });
    expect(err.message).toMatch(/^invalid input for 'add': key: .*; by: /);
    await tick();
    expect(system.actors()[0]?.turns).toBe(0);
    expect(await counter.ask('get', { key: 'a' })).toBe(0);
    expect(system.stats().rejectedInputs).toBe(1);
    await system.shutdown();
  });

  it('refuses an unknown message name with INVALID_MESSAGE', async () => {
    const { system } = createTestSystem();
    const counter = system.spawn(Counter);
    const err = await rejection(counter.ask('nope' as never, {} as never));
    expect(err.code).toBe('INVALID_MESSAGE');
    expect(err.message).toMatch(/has no message 'nope'/);
    await system.shutdown();
  });

  it('turns an invalid tell into a dead letter carrying the zod issues; state unchanged', async () => {
    const { system, deadLetters } = createTestSystem();
    const counter = system.spawn(Counter, { id: 'c' });
    counter.tell('add', { key: 'a', by: 'many' } as never);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({ actor: 'c', message: 'add', reason: 'invalid-message' });
    expect(isHoldfastError(deadLetters[0]?.error, 'INVALID_MESSAGE')).toBe(true);
    expect(await counter.ask('get', { key: 'a' })).toBe(0);
    await system.shutdown();
  });

  it('checks replies in dev/test mode: a bad reply crashes the turn with an INVALID_REPLY cause', async () => {
    const P = defineProtocol('liar', { n: { input: z.object({}), reply: z.number() } });
    const Liar = defineActor(P, { init: () => null, handlers: { n: () => 'not a number' as unknown as number } });
    const { system, events } = createTestSystem();
    const liar = system.spawn(Liar, { id: 'liar' });
    const err = await rejection(liar.ask('n', {}));
    expect(err.code).toBe('ACTOR_CRASHED');
    expect(err.details).toMatchObject({ reason: 'invalid-reply', message: 'n', decision: 'restart' });
    expect(isHoldfastError(err.cause, 'INVALID_REPLY')).toBe(true);
    expect(events.some((e) => e.type === 'crashed' && e.reason === 'invalid-reply')).toBe(true);
    await system.shutdown();
  });

  it('passes inputs and replies through unchecked when validation is off', async () => {
    const P = defineProtocol('raw', { echo: { input: z.object({ n: z.number() }), reply: z.number() } });
    const Echo = defineActor(P, { init: () => null, handlers: { echo: (_s, i) => i as unknown as number } });
    const { system } = createTestSystem({ validate: { input: false, reply: false } });
    const e = system.spawn(Echo);
    expect(await e.ask('echo', { n: 'x' } as never)).toEqual({ n: 'x' });
    const { system: perActor } = createTestSystem();
    const checked = perActor.spawn(Echo, { validate: { input: true, reply: false } });
    expect((await rejection(checked.ask('echo', { n: 'x' } as never))).code).toBe('INVALID_MESSAGE');
    expect(await checked.ask('echo', { n: 1 })).toEqual({ n: 1 });
    await system.shutdown();
    await perActor.shutdown();
  });

  it('forces the reply of a message without a reply schema to undefined', async () => {
    const P = defineProtocol('v', { go: { input: z.object({}) } });
    const A = defineActor(P, { init: () => null, handlers: { go: () => 'internal' as unknown as undefined } });
    const { system } = createTestSystem();
    expect(await system.spawn(A).ask('go', {})).toBeUndefined();
    await system.shutdown();
  });
});
