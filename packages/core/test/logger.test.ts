import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSystem, defineActor, defineProtocol, fromPino } from '../src/index.js';
import { rejection } from './fixtures.js';

describe('logging through pino', () => {
  it('binds actor id, type, incarnation and message name to every line from ctx.log', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
        cb();
      },
    });
    const P = defineProtocol('greeter', { greet: { input: z.object({ name: z.string() }), reply: z.string() }, fail: { input: z.object({}) } });
    const Greeter = defineActor(P, {
      init: () => null,
      handlers: {
        greet(_s, { name }, ctx) {
          ctx.log.info({ name }, 'greeting');
          return `hi ${name}`;
        },
        fail() {
          throw new Error('nope');
        },
      },
    });
    const system = createSystem({ name: 'app', logger: fromPino(pino({ level: 'info' }, sink)) });
    const g = system.spawn(Greeter, { id: 'g1' });
    await g.ask('greet', { name: 'ada' });
    await rejection(g.ask('fail', {}));
    await g.ask('greet', { name: 'bob' });
    await system.shutdown();
    const greetings = lines.filter((l) => l.msg === 'greeting');
    expect(greetings.map((l) => [l.system, l.actor, l.type, l.incarnation, l.message, l.name])).toEqual([
      ['app', 'g1', 'greeter', 1, 'greet', 'ada'],
      ['app', 'g1', 'greeter', 2, 'greet', 'bob'],
    ]);
    const crash = lines.find((l) => l.msg === 'actor crashed');
    expect(crash).toMatchObject({ level: 50, actor: 'g1', incarnation: 1, message: 'fail', reason: 'threw', decision: 'restart', err: { message: 'nope' } });
  });
});
