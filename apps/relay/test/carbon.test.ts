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
    const push = (t: string) => s.push(Buffer.from(t));
    expect(push('a 1 1\nb 2')).toEqual(['a 1 1']);
    expect(s.pending).toBe(3);
    expect(push(' 2\r\n\n\nc 3 3\n')).toEqual(['b 2 2', 'c 3 3']);
    expect(s.pending).toBe(0);
    expect(push('d')).toEqual([]);
    expect(push('')).toEqual([]);
    expect(push(' 4 4\n')).toEqual(['d 4 4']);
    // A character split across chunks is put back together.
    const euro = Buffer.from('€ 1 1\n');
    expect([...s.push(euro.subarray(0, 1)), ...s.push(euro.subarray(1))]).toEqual(['€ 1 1']);
  });

  it('drops a line longer than the limit whole, keeping no more than the limit of it, and goes on with the next', () => {
    const s = new LineSplitter(10);
    const push = (t: string) => s.push(Buffer.from(t));
    expect(push('exactly 10\r\n')).toEqual(['exactly 10']);
    expect(push('eleven char\nok\n')).toEqual(['ok']);
    expect(s.tooLong).toBe(1);
    // An endless line in many chunks: dropped once, and what is held never passes the limit.
    for (let i = 0; i < 1_000; i++) {
      expect(push('x'.repeat(7))).toEqual([]);
      expect(s.pending).toBeLessThanOrEqual(11);
    }
    expect(s.tooLong).toBe(2);
    expect(push('still the long one\nnext 1 1\n')).toEqual(['next 1 1']);
    expect(s.tooLong).toBe(2);
  });

  it('looks at each byte once: a line cut into a million one-byte chunks costs a million pushes, not a million squared', () => {
    const s = new LineSplitter(2_000_000);
    const text = Buffer.from(`${'a'.repeat(999_999)}\n`);
    let lines: string[] = [];
    for (let i = 0; i < text.length; i++) lines = s.push(text.subarray(i, i + 1));
    expect(lines).toEqual(['a'.repeat(999_999)]);
  });
});

describe('routes', () => {
  it('run regexes in linear time: a pattern that backtracks catastrophically elsewhere answers at once', () => {
    const evil = compileMatcher({ kind: 'regex', pattern: '^(a+)+$' });
    // 100,000 characters: a backtracking engine would not finish in the lifetime of the test run.
    expect(evil(`${'a'.repeat(100_000)}b`)).toBe(false);
    expect(evil('a'.repeat(100_000))).toBe(true);
  });

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
    expect(m.error?.issues.map((i) => [i.path, i.message.split(':')[0]])).toEqual([[['pattern'], 'not a regular expression the relay runs (RE2 syntax)']]);
    // What RE2 leaves out is refused when the route is given, not when a line comes.
    for (const pattern of ['(a)\\1', 'a(?=b)', '(?<!x)y']) expect(Matcher.safeParse({ kind: 'regex', pattern }).success, pattern).toBe(false);
    const r = RouteSpec.safeParse({ name: 'a b', match: { kind: 'prefix', pattern: 'x' }, destinations: ['localhost'] });
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['name', 'destinations.0']);
    expect(RouteSpec.safeParse({ name: 'x', match: { kind: 'prefix', pattern: 'x' }, destinations: ['h:70000'] }).success).toBe(false);
    expect(RouteSpec.safeParse({ name: 'x', match: { kind: 'prefix', pattern: 'x' }, destinations: [] }).success).toBe(false);
  });
});
