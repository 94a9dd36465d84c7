import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CompiledMessage } from '../src/defineProtocol.js';
import { createSystem, defineActor, defineProtocol } from '../src/index.js';
import { takesContext } from '../src/internal/cell/takesContext.js';
import { type Bucket, Deadlines, type Expirable } from '../src/internal/Deadlines.js';
import { hashOf, IdRegistry } from '../src/internal/IdRegistry.js';
import { Mailbox } from '../src/internal/Mailbox.js';
import type { ReplyChannel } from '../src/internal/ReplyChannel.js';
import { RingBuffer } from '../src/internal/RingBuffer.js';
import { toJSONSafe } from '../src/internal/toJSONSafe.js';
import { ManualClock } from '../src/testing/index.js';

class Item implements Expirable {
  deadline = 0;
  bucket: Bucket | null = null;
  slot = 0;
  settled = false;
  constructor(
    readonly name: string,
    readonly log: string[],
    readonly deadlines: Deadlines,
  ) {}
  expire(): void {
    this.log.push(this.name);
    this.settle();
  }
  settle(): void {
    this.settled = true;
    this.deadlines.done(this);
  }
}

describe('RingBuffer', () => {
  it('is FIFO across growth and wrap-around', () => {
    const r = new RingBuffer<number>();
    const out: number[] = [];
    for (let i = 0; i < 100; i++) {
      r.push(i);
      if (i % 3 === 0) out.push(r.shift() as number);
    }
    while (r.length) out.push(r.shift() as number);
    expect(out).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(r.shift()).toBeUndefined();
  });

  it('lists and drains in order', () => {
    const r = new RingBuffer<number>();
    for (let i = 0; i < 10; i++) r.push(i);
    expect(r.toArray()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.drain()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.length).toBe(0);
  });
});

describe('Mailbox', () => {
  const msg = (name: string) => ({ name }) as CompiledMessage;
  const ask = (name: string) => ({ name }) as unknown as ReplyChannel;
  const headOf = (m: Mailbox) => [m.headMsg()?.name, m.headInput(), (m.headAsk() as { name: string } | null)?.name ?? null];

  it('is FIFO over (message, input, ask) across growth and wrap-around', () => {
    const m = new Mailbox();
    const out: unknown[] = [];
    for (let i = 0; i < 100; i++) {
      m.push(msg(`m${i}`), i, i % 2 === 0 ? null : ask(`a${i}`));
      if (i % 3 === 0) {
        out.push(headOf(m));
        m.shift();
      }
    }
    while (m.length > 0) {
      out.push(headOf(m));
      m.shift();
    }
    expect(out).toEqual(Array.from({ length: 100 }, (_, i) => [`m${i}`, i, i % 2 === 0 ? null : `a${i}`]));
    expect(m.headMsg()).toBeUndefined();
    expect(m.take()).toBeUndefined();
  });

  it('takes the second message keeping the head, and drains in order', () => {
    const m = new Mailbox();
    // Wrap the ring first, so that the second sits at the start of the buffer.
    m.push(msg('x'), 0, null);
    m.shift();
    for (let i = 0; i < 2; i++) m.push(msg(`m${i}`), i, null);
    expect(m.takeSecond()).toEqual({ msg: msg('m1'), input: 1, ask: null });
    expect(headOf(m)).toEqual(['m0', 0, null]);
    expect(m.takeSecond()).toBeUndefined();
    for (let i = 2; i < 6; i++) m.push(msg(`m${i}`), i, ask(`a${i}`));
    expect(m.drain().map((e) => [e.msg.name, e.input, (e.ask as { name: string } | null)?.name ?? null])).toEqual([
      ['m0', 0, null],
      ['m2', 2, 'a2'],
      ['m3', 3, 'a3'],
      ['m4', 4, 'a4'],
      ['m5', 5, 'a5'],
    ]);
    expect(m.length).toBe(0);
  });
});

class Entry {
  seq = 0;
  constructor(readonly id: string) {}
}

describe('module load order', () => {
  // The hot modules read some imports through module constants set when they load (see Cell.ts):
  // whichever public entry a program imports first, every module must load.
  it('loads from each public entry point first', () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    for (const entry of ['src/index.ts', 'src/testing/index.ts', 'src/host.ts', 'src/store.ts', 'src/cluster.ts']) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', `await import('./${entry}'); console.log('loaded')`], {
        cwd: root,
        encoding: 'utf8',
      });
      expect(`${entry}: ${out.trim()}`).toBe(`${entry}: loaded`);
    }
  }, 60_000);
});

describe('IdRegistry', () => {
  // A constant hash makes every id share one: the path of colliding ids, which real hashes take
  // about 5 times in 100,000 ids.
  for (const [name, hash] of [
    ['its own hash', undefined],
    ['every id sharing one hash', () => 7],
    ['ids sharing hashes in pairs', (id: string) => id.length],
  ] as const) {
    it(`answers as a Map does, in the order of registration, with ${name}`, () => {
      const r = new IdRegistry<Entry>(hash);
      const m = new Map<string, Entry>();
      const ids = ['a', 'bb', 'cc', 'd', 'ee', 'ff', 'g', 'hh'];
      let n = 0;
      // A fixed pseudo-random script of adds, sets, deletes (some of them of the wrong value).
      for (let step = 0; step < 400; step++) {
        n = (n * 1103515245 + 12345) & 0x7fffffff;
        const id = ids[n % ids.length] as string;
        const op = (n >> 8) % 4;
        if (op === 0) {
          const e = new Entry(id);
          expect(r.add(e)).toBe(!m.has(id));
          if (!m.has(id)) m.set(id, e);
        } else if (op === 1) {
          const e = new Entry(id);
          r.set(e);
          m.set(id, e);
        } else if (op === 2) {
          expect(r.delete(id, new Entry(id))).toBe(false);
        } else {
          expect(r.delete(id)).toBe(m.delete(id));
        }
        expect(r.size).toBe(m.size);
        for (const x of ids) {
          expect(r.get(x)).toBe(m.get(x));
          expect(r.has(x)).toBe(m.has(x));
        }
        expect(r.values()).toEqual([...m.values()]);
        expect(r.every((e) => m.get(e.id) === e)).toBe(true);
        const seen: Entry[] = [];
        r.forEach((e) => {
          seen.push(e);
        });
        expect(seen.sort((x, y) => x.seq - y.seq)).toEqual([...m.values()]);
      }
    });
  }

  it('deletes a value only when it is the one registered under its id', () => {
    const r = new IdRegistry<Entry>(() => 1);
    const a = new Entry('a');
    const b = new Entry('b');
    r.set(a);
    r.set(b);
    expect(r.delete('a', b)).toBe(false);
    expect(r.delete('a', a)).toBe(true);
    expect(r.get('a')).toBeUndefined();
    expect(r.get('b')).toBe(b);
    expect(r.values()).toEqual([b]);
  });

  it('hashes to small non-negative integers, the same for the same id, spread over ids', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const h = hashOf(`actor-${i}`);
      expect(h).toBe(hashOf(`actor-${i}`));
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 30).toBe(true);
      seen.add(h);
    }
    expect(seen.size).toBeGreaterThan(9_990);
    expect(hashOf('')).toBe(hashOf(''));
  });
});

describe('Deadlines', () => {
  it('expires items in deadline order across lanes with one timer, skipping settled ones', () => {
    const clock = new ManualClock();
    const d = new Deadlines(clock);
    const log: string[] = [];
    const a = new Item('a300', log, d);
    const b = new Item('b100', log, d);
    const c = new Item('c300', log, d);
    const e = new Item('e100-settled', log, d);
    d.add(a, 300);
    d.add(b, 100);
    d.add(e, 100);
    clock.advance(50);
    d.add(c, 300); // deadline 350
    e.settle();
    expect(d.live).toBe(3);
    expect(clock.pending).toBe(1);
    clock.advance(50);
    expect(log).toEqual(['b100']);
    clock.advance(200);
    expect(log).toEqual(['b100', 'a300']);
    clock.advance(49);
    expect(log).toEqual(['b100', 'a300']);
    clock.advance(1);
    expect(log).toEqual(['b100', 'a300', 'c300']);
    expect(d.live).toBe(0);
  });

  it('frees settled items at once and drops finished buckets, even behind a pending head', () => {
    const clock = new ManualClock();
    const d = new Deadlines(clock);
    const log: string[] = [];
    const head = new Item('head', log, d);
    d.add(head, 1_000);
    const items = Array.from({ length: 5_000 }, (_, i) => new Item(`i${i}`, log, d));
    for (const it of items) d.add(it, 1_000);
    for (const it of items) it.settle();
    expect(d.live).toBe(1);
    // The head's bucket references the head alone; the finished buckets behind it hold nothing.
    const bucket = head.bucket as Bucket;
    expect(bucket.items.filter((x) => x !== undefined)).toEqual([head]);
    const behind = bucket.lane.buckets.toArray().slice(1);
    expect(behind.length).toBe(Math.ceil((5_001 - 64) / 64));
    expect(behind.every((b) => b.live === 0 && b.items.every((x) => x === undefined))).toBe(true);
    head.settle();
    expect(d.live).toBe(0);
    clock.advance(2_000);
    expect(log).toEqual([]);
  });

  it('expires out-of-order survivors across many buckets in deadline order', () => {
    const clock = new ManualClock();
    const d = new Deadlines(clock);
    const log: string[] = [];
    const all = Array.from({ length: 300 }, (_, i) => {
      const it = new Item(`i${i}`, log, d);
      d.add(it, 100 + (i % 2)); // two lanes
      return it;
    });
    for (const [i, it] of all.entries()) if (i % 100 !== 7 && i % 100 !== 8) it.settle();
    clock.advance(99);
    expect(log).toEqual([]);
    clock.advance(1); // the 100 ms lane: i8, i108, i208
    expect(log).toEqual(['i8', 'i108', 'i208']);
    clock.advance(1); // the 101 ms lane: i7, i107, i207
    expect(log).toEqual(['i8', 'i108', 'i208', 'i7', 'i107', 'i207']);
    expect(d.live).toBe(0);
  });
});

describe('ManualClock', () => {
  it('fires due timers in order of time, then of setting, and not cleared ones', () => {
    const c = new ManualClock(1_000);
    const log: string[] = [];
    c.setTimeout(() => log.push('b'), 20);
    c.setTimeout(() => log.push('a'), 10);
    const x = c.setTimeout(() => log.push('x'), 15);
    c.setTimeout(() => log.push('c'), 20);
    c.clearTimeout(x);
    c.advance(19);
    expect(log).toEqual(['a']);
    c.advance(1);
    expect(log).toEqual(['a', 'b', 'c']);
    expect(c.now()).toBe(1_020);
    c.setTimeout(() => {
      log.push('d');
      c.setTimeout(() => log.push('e'), 0);
    }, 5);
    c.advance(5);
    expect(log).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});

describe('toJSONSafe', () => {
  it('renders maps, sets, bigints, cycles and depth safely', () => {
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    expect(toJSONSafe({ m: new Map([[1, 'x']]), s: new Set(['y']), b: 2n, cyc, u: undefined, f: function named() {}, d: new Date(0) })).toEqual({
      m: [[1, 'x']],
      s: ['y'],
      b: '2n',
      cyc: { a: 1, self: '[Circular]' },
      u: null,
      f: '[function named]',
      d: '1970-01-01T00:00:00.000Z',
    });
    expect(toJSONSafe({ a: { b: { c: 1 } } }, 2)).toEqual({ a: { b: '[…]' } });
  });
});

describe('takesContext', () => {
  // Functions written as users write handlers; biome would reformat some of them, so most are
  // made from source text, as the JavaScript engine sees them.
  const fn = (src: string) => new Function(`return (${src});`)() as (...args: never[]) => unknown;
  const method = (src: string) => (new Function(`return ({ ${src} });`)() as Record<string, (...args: never[]) => unknown>).h as (...args: never[]) => unknown;

  it('is false only for handlers that certainly cannot see a third argument', () => {
    const cannot = [
      fn('(s, i) => s.n += i.by'),
      fn('(s, { by }) => { s.n += by; }'),
      fn('s => s.n'),
      fn('async (s) => s'),
      fn('function (s, [a, b]) { return a + b; }'),
      fn('() => 1'),
      method('h(state, { key, by }) { return state.get(key) + by; }'),
      method('async h(s, i) { return s; }'),
    ];
    expect(cannot.map(takesContext)).toEqual(cannot.map(() => false));
    const can = [
      fn('(s, i, ctx) => ctx.self'),
      fn('(s, i = {}, ctx) => ctx'),
      fn('(s, { by } = {}) => by'),
      fn('(s, ...rest) => rest[1]'),
      fn('function (s, i) { return arguments[2]; }'),
      fn('(s, i,) => i'),
      method('h(s, { by }, ctx = null) { return ctx; }'),
      method("['h'](s, i) { return i; }"),
      fn('(s, i = "(", c) => c'),
      fn('((s, i) => i).bind(null)'),
    ];
    expect(can.map(takesContext)).toEqual(can.map(() => true));
  });

  it('gives ctx to every handler of a type when one of them takes it, and a type whose handlers take none runs the same', async () => {
    const P = defineProtocol('ctx-or-not', {
      add: { input: z.object({ by: z.number() }), reply: z.number() },
      who: { input: z.object({}), reply: z.string() },
    });
    const WithCtx = defineActor(P, { init: () => ({ n: 0 }), handlers: { add: (s, { by }) => (s.n += by), who: (_s, _i, ctx) => ctx.self.id } });
    const Without = defineActor(P, { init: () => ({ n: 0 }), handlers: { add: (s, { by }) => (s.n += by), who: () => 'nobody' } });
    const system = createSystem();
    try {
      const a = system.spawn(WithCtx, { id: 'with' });
      const b = system.spawn(Without, { id: 'without' });
      expect([await a.ask('add', { by: 2 }), await a.ask('who', {}), await b.ask('add', { by: 3 }), await b.ask('who', {})]).toEqual([2, 'with', 3, 'nobody']);
      // A restart starts a new incarnation of each, context or not.
      await system.restart(b);
      expect(await b.ask('add', { by: 1 })).toBe(1);
    } finally {
      await system.shutdown();
    }
  });
});
