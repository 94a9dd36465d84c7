import { createSystem, defineActor, defineProtocol } from '@holdfast/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ago, Printer, replCommands } from '../src/index.js';
import { COMMAND_NAMES, CommandArgs, Commands, PROTOCOL_VERSION, Request, Response, TracePush } from '../src/protocol.js';

describe('the debug protocol', () => {
  it('checks requests: a known command, an id, arguments defaulting to {}', () => {
    expect(Request.parse({ id: 1, cmd: 'actors' })).toEqual({ id: 1, cmd: 'actors', args: {} });
    expect(Request.safeParse({ id: 1, cmd: 'fly' }).success).toBe(false);
    expect(Request.safeParse({ cmd: 'actors' }).success).toBe(false);
    expect(CommandArgs.ask.safeParse({ id: 'a', message: 'm', input: { x: 1 }, timeoutMs: 5 }).success).toBe(true);
    expect(CommandArgs.ask.safeParse({ id: '', message: 'm' }).success).toBe(false);
    expect(CommandArgs.untrace.safeParse({ trace: 0 }).success).toBe(false);
    expect(COMMAND_NAMES).toEqual([
      'hello',
      'help',
      'actors',
      'nodes',
      'shards',
      'tree',
      'state',
      'describe',
      'ask',
      'tell',
      'restart',
      'stop',
      'passivate',
      'stats',
      'events',
      'trace',
      'untrace',
      'eval',
    ]);
    expect(PROTOCOL_VERSION).toBe(1);
  });

  it('tells answers from trace lines', () => {
    expect(Response.parse({ id: 3, ok: true, result: [1] })).toEqual({ id: 3, ok: true, result: [1] });
    expect(Response.parse({ id: null, ok: false, error: { code: 'BAD_REQUEST', message: 'x' } })).toMatchObject({ ok: false });
    expect(Response.safeParse({ id: 3, ok: false }).success).toBe(false);
    expect(TracePush.safeParse({ trace: 1, kind: 'message', event: { actor: 'a' } }).success).toBe(true);
    expect(TracePush.safeParse({ id: 1, ok: true, result: null }).success).toBe(false);
  });
});

describe('the results of the debug protocol', () => {
  it("describe what a real system answers: actors, state, tree and stats parse with the protocol's schemas", async () => {
    const P = defineProtocol('thing', { poke: { input: z.object({}), reply: z.number() }, crash: { input: z.object({}) } });
    const Thing = defineActor(P, {
      init: () => ({ pokes: 0 }),
      handlers: {
        poke: (s) => ++s.pokes,
        crash() {
          throw new Error('boom');
        },
      },
    });
    const system = createSystem({ name: 'shapes' });
    const a = system.steward('group', { strategy: 'one-for-all' }).spawn(Thing, { id: 'a' });
    system.spawn(Thing, { id: 'b' });
    await a.ask('poke', {});
    await a.ask('crash', {}).catch(() => {});
    await a.ask('poke', {});
    const roundTrip = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
    const actors = Commands.actors.result.parse(roundTrip(system.actors())) as Array<{ id: string; steward: string; restarts: number }>;
    expect(actors.map((r) => [r.id, r.steward, r.restarts])).toEqual([
      ['a', 'group', 1],
      ['b', 'root', 0],
    ]);
    const state = Commands.state.result.parse(roundTrip(await system.inspect('a')));
    expect([state.state, state.history.map((h) => h.reason)]).toEqual([{ pokes: 1 }, ['threw']]);
    const tree = Commands.tree.result.parse(roundTrip(system.tree()));
    expect(tree.children.map((c) => (c.kind === 'steward' ? `steward ${c.name}` : `actor ${c.id}`))).toEqual(['steward group', 'actor b']);
    const stats = Commands.stats.result.parse(roundTrip(system.stats()));
    expect(Object.keys(stats).slice(0, 2)).toEqual(['asks', 'turns']);
    await system.shutdown();
  });

  it('has one help text per command, which the REPL lists with its synopsis', () => {
    for (const name of COMMAND_NAMES) expect(Commands[name].help.length, name).toBeGreaterThan(10);
    const listed = replCommands();
    expect(listed.find((c) => c.command === '.ask <id> <message> [json]')?.help).toBe(Commands.ask.help);
    expect(listed.at(-1)).toEqual({ command: '.exit', help: 'leave (or Ctrl-D)' });
  });
});

describe('formatting', () => {
  it('aligns tables, prints zod issues under an error, and says how long ago', () => {
    let out = '';
    const p = new Printer((t) => (out += t), false, false);
    p.table(
      ['id', 'turns'],
      [
        ['alice', '12'],
        ['bo', '3'],
      ],
    );
    p.error('INVALID_MESSAGE', 'bad input', { issues: [{ path: ['amount'], message: 'Too small' }] });
    expect(out).toBe('id     turns\nalice  12\nbo     3\nINVALID_MESSAGE: bad input\n  - amount: Too small\n');
    expect(ago(null)).toBe('-');
    expect(ago(1_000, 3_500)).toBe('2.5s ago');
    expect(ago(0, 10_000_000)).toBe('-');
    expect(ago(1, 1 + 120_000)).toBe('2m ago');
    let json = '';
    new Printer((t) => (json += t), true, false).error('X', 'y');
    expect(JSON.parse(json)).toEqual({ error: { code: 'X', message: 'y' } });
  });
});
