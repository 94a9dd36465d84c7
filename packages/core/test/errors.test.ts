import { describe, expect, it } from 'vitest';
import {
  ActorCrashed,
  ActorStopped,
  AskTimeout,
  Cancelled,
  Deadlock,
  ErrorCode,
  errorFromJSON,
  type HoldfastError,
  InvalidMessage,
  isHoldfastError,
  MailboxFull,
  Rejected,
  reject,
  ShuttingDown,
  toError,
  WorkerLost,
} from '../src/index.js';

describe('errors', () => {
  it('gives every error a stable code, a name and serialisable details', () => {
    const all: HoldfastError[] = [
      new InvalidMessage({ actor: 'a', message: 'm', issues: [{ path: ['x'], message: 'bad' }] }),
      new AskTimeout('a', 'm', 100),
      new MailboxFull('a', 10),
      new ActorStopped('a', 'gave-up'),
      new ActorCrashed({ actor: 'a', message: 'm', reason: 'threw', decision: 'restart', incarnation: 1 }, new Error('x')),
      new Rejected('NO', { n: 1 }),
      new Cancelled('a', 'm'),
      new ShuttingDown('sys'),
      new Deadlock(['a', 'b', 'a']),
      new WorkerLost('a', 3),
    ];
    expect(all.map((e) => [e.name, e.code])).toEqual([
      ['InvalidMessage', 'INVALID_MESSAGE'],
      ['AskTimeout', 'ASK_TIMEOUT'],
      ['MailboxFull', 'MAILBOX_FULL'],
      ['ActorStopped', 'ACTOR_STOPPED'],
      ['ActorCrashed', 'ACTOR_CRASHED'],
      ['Rejected', 'REJECTED'],
      ['Cancelled', 'CANCELLED'],
      ['ShuttingDown', 'SHUTTING_DOWN'],
      ['Deadlock', 'DEADLOCK'],
      ['WorkerLost', 'WORKER_LOST'],
    ]);
    for (const e of all) {
      expect(e).toBeInstanceOf(Error);
      expect(isHoldfastError(e, e.code as ErrorCode)).toBe(true);
    }
    expect(Object.values(ErrorCode)).toEqual(
      expect.arrayContaining([
        'INVALID_MESSAGE',
        'ASK_TIMEOUT',
        'MAILBOX_FULL',
        'ACTOR_NOT_FOUND',
        'ACTOR_STOPPED',
        'ACTOR_CRASHED',
        'REJECTED',
        'CANCELLED',
        'SHUTTING_DOWN',
        'DEADLOCK',
        'WORKER_LOST',
      ]),
    );
  });

  it('round-trips through JSON with code, details and the cause chain', () => {
    const crash = new ActorCrashed({ actor: 'a', message: 'm', reason: 'threw', decision: 'stop', incarnation: 2 }, new Rejected('INNER', { why: 'x' }));
    const copy = errorFromJSON(JSON.parse(JSON.stringify(crash)));
    expect(isHoldfastError(copy, 'ACTOR_CRASHED')).toBe(true);
    expect(copy.name).toBe('ActorCrashed');
    expect(copy.message).toBe(crash.message);
    expect(copy.details).toEqual(crash.details);
    expect(isHoldfastError(copy.cause, 'REJECTED')).toBe(true);
    expect((copy.cause as HoldfastError).details).toEqual({ reason: 'INNER', details: { why: 'x' } });
    const plainCause = errorFromJSON(new ActorStopped('a', 'stopped', new TypeError('t')).toJSON());
    expect(plainCause.cause).toBeInstanceOf(Error);
    expect((plainCause.cause as Error).name).toBe('TypeError');
  });

  it('recognises errors by brand, not by class identity, and rejects look-alikes', () => {
    const fake = Object.assign(new Error('x'), { code: 'REJECTED' });
    expect(isHoldfastError(fake)).toBe(false);
    expect(isHoldfastError(null)).toBe(false);
    expect(isHoldfastError(new Rejected('A', 1), 'ASK_TIMEOUT')).toBe(false);
  });

  it('reject() throws a REJECTED error with the reason and details', () => {
    expect(() => reject('NO_FUNDS', { balance: 3 })).toThrowError(
      expect.objectContaining({ code: 'REJECTED', details: { reason: 'NO_FUNDS', details: { balance: 3 } } }),
    );
  });

  it('normalises unknown throws into Errors', () => {
    expect(toError('plain').message).toBe('plain');
    expect(toError({ message: 'obj', code: 7 })).toMatchObject({ message: 'obj', code: 7 });
    expect(toError(42).message).toBe('non-error thrown: 42');
    const e = new RangeError('r');
    expect(toError(e)).toBe(e);
  });
});
