import { InvalidArgument } from '@holdfast/core';
import { describe, expect, it } from 'vitest';
import { jsonLine } from '../src/internal/jsonLine.js';

describe('jsonLine (what the debug socket writes)', () => {
  it('shows an object reached twice by different paths both times, and marks only a real cycle', () => {
    const shared = { n: 1 };
    const cyclic: { name: string; self?: unknown } = { name: 'loop' };
    cyclic.self = cyclic;
    expect(JSON.parse(jsonLine({ a: shared, b: shared, list: [shared, shared], cyclic }))).toEqual({
      a: { n: 1 },
      b: { n: 1 },
      list: [{ n: 1 }, { n: 1 }],
      cyclic: { name: 'loop', self: '[cycle]' },
    });
  });

  it('writes bigints as strings and errors as plain objects (Holdfast errors with their code)', () => {
    expect(JSON.parse(jsonLine({ big: 10n ** 20n, plain: new TypeError('x'), coded: new InvalidArgument('bad', { option: 'x' }) }))).toMatchObject({
      big: '100000000000000000000',
      plain: { name: 'TypeError', message: 'x' },
      coded: { name: 'InvalidArgument', code: 'INVALID_ARGUMENT', message: 'bad', details: { option: 'x' } },
    });
  });
});
