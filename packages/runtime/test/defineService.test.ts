import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineService } from '../src/index.js';

describe('defineService', () => {
  it('refuses an unknown key, naming it and the nearest known one', () => {
    let error: { code?: string; details?: unknown; message?: string } = {};
    try {
      defineService({ name: 'kv', config: z.object({}), strat() {} } as never);
    } catch (e) {
      error = e as typeof error;
    }
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.details).toEqual({ option: 'strat', suggestion: 'start' });
    expect(error.message).toMatch(/^defineService\('kv'\): unknown option 'strat' \(did you mean 'start'\?\)/);
  });

  it('refuses a bad name, a missing start and a config that is not a zod schema', () => {
    expect(() => defineService({ name: 'Not Valid', config: z.object({}), start() {} })).toThrow(/name must be lower-case letters/);
    expect(() => defineService({ name: 'kv', config: z.object({}) } as never)).toThrow(/start must be a function/);
    expect(() => defineService({ name: 'kv', config: {} as never, start() {} })).toThrow(/config must be a zod schema/);
    expect(defineService({ name: 'kv', config: z.object({}), start() {} }).kind).toBe('service');
  });
});
