import { describe, expect, it } from 'vitest';
import { LineSplitter, parseLine } from '../src/carbon.js';
import { compileMatcher, Matcher, RouteSpec } from '../src/routes.js';

describe('carbon plaintext', () => {
  it('takes `path value timestamp` and refuses anything else', () => {
    expect(parseLine('servers.a.cpu 12.5 1700000000')).toEqual({ path: 'servers.a.cpu', value: '12.5', timestamp: '1700000000' });
    expect(parseLine('a.b -3e-2 -1')).toEqual({ path: 'a.b', value: '-3e-2', timestamp: '-1' });
    expect(parseLine('a.b nan 1700000000.5')).toEqual({ path: 'a.b', value: 'nan', timestamp: '1700000000.5' });
    for (const bad of ['', 'garbage', 'a.b 1', 'a.b 1 2 3', 'a.b one 1700000000', 'a.b 1 yesterday', 'a.b  1 2', 'a.b 1 1e9'])
      expect(parseLine(bad), bad).toBeNull();
  });

  it('splits a stream into lines across chunks, with \\r\\n endings and blank lines', () => {
    const s = new LineSplitter();
    expect(s.push('a 1 1\nb 2')).toEqual(['a 1 1']);
    expect(s.pending).toBe(3);
    expect(s.push(' 2\r\n\n\nc 3 3\n')).toEqual(['b 2 2', 'c 3 3']);
    expect(s.pending).toBe(0);
    expect(s.push('d')).toEqual([]);
    expect(s.push('')).toEqual([]);
    expect(s.push(' 4 4\n')).toEqual(['d 4 4']);
  });
});

describe('routes', () => {
  it('match by prefix, substring or regex', () => {
    const prefix = compileMatcher({ kind: 'prefix', pattern: 'servers.' });
    const substring = compileMatcher({ kind: 'substring', pattern: '.errors.' });
    const regex = compileMatcher({ kind: 'regex', pattern: '^app\\.(web|api)\\.latency$' });
    expect([prefix('servers.a'), prefix('x.servers.a')]).toEqual([true, false]);
    expect([substring('a.errors.b'), substring('errors.b')]).toEqual([true, false]);
    expect([regex('app.web.latency'), regex('app.api.latency'), regex('app.db.latency'), regex('app.web.latency.p99')]).toEqual([true, true, false, false]);
  });

  it('refuse a regex that does not compile, a bad name and a destination without a port, with zod issues', () => {
    const m = Matcher.safeParse({ kind: 'regex', pattern: 'a(' });
    expect(m.success).toBe(false);
    expect(m.error?.issues.map((i) => [i.path, i.message.split(':')[0]])).toEqual([[['pattern'], 'not a regular expression']]);
    const r = RouteSpec.safeParse({ name: 'a b', match: { kind: 'prefix', pattern: 'x' }, destinations: ['localhost'] });
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['name', 'destinations.0']);
    expect(RouteSpec.safeParse({ name: 'x', match: { kind: 'prefix', pattern: 'x' }, destinations: ['h:70000'] }).success).toBe(false);
    expect(RouteSpec.safeParse({ name: 'x', match: { kind: 'prefix', pattern: 'x' }, destinations: [] }).success).toBe(false);
  });
});
