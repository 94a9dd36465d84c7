import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineActor, defineProtocol } from '../src/index.js';

describe('defineProtocol / defineActor', () => {
  it('refuses malformed protocols with INVALID_ARGUMENT', () => {
    expect(() => defineProtocol('', { a: { input: z.object({}) } })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => defineProtocol('p', {})).toThrowError(/has no messages/);
    expect(() => defineProtocol('p', { a: { input: 'nope' as never } })).toThrowError(/needs an 'input' zod schema/);
    expect(() => defineProtocol('p', { a: { input: z.object({}), reply: {} as never } })).toThrowError(/'reply' that is not a zod schema/);
    expect(() => defineProtocol('p', { 'bad name': { input: z.object({}) } })).toThrowError(/not identifier-like/);
  });

  it('refuses behaviours with missing or extra handlers', () => {
    const P = defineProtocol('p', { a: { input: z.object({}) }, b: { input: z.object({}) } });
    expect(() => defineActor(P, { init: () => null, handlers: { a() {} } as never })).toThrowError(/no handler for message 'b'/);
    expect(() => defineActor(P, { init: () => null, handlers: { a() {}, b() {}, c() {} } as never })).toThrowError(/'c' is not a message/);
    expect(defineActor(P, { name: 'custom', init: () => null, handlers: { a() {}, b() {} } }).name).toBe('custom');
  });
});
