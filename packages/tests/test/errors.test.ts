// Every package's errors are coded and serialisable the way core's are: a stable code, details,
// a cause where there is one, a brand that copies of a package agree on, and JSON that crosses a
// thread or a socket and comes back with its code.
import { errorFromJSON, isHoldfastError } from '@holdfast/core';
import { createHttpFront } from '@holdfast/http';
import { ClientError, DebugClient, RemoteError, UsageError } from '@holdfast/repl';
import { RuntimeError, resolveSettings, SettingsError } from '@holdfast/runtime';
import { createWorkerHost, WorkerError } from '@holdfast/workers';
import { describe, expect, it } from 'vitest';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('errors of every package', () => {
  it('carry a stable code, survive JSON, and are Holdfast errors', async () => {
    const cases: Array<[unknown, string, string]> = [
      [thrown(() => resolveSettings({ adminPort: 'x' }, {})), 'SettingsError', 'INVALID_SETTING'],
      [new RuntimeError('NO_SERVICE', 'none', { dir: '/tmp/x', live: [] }), 'RuntimeError', 'NO_SERVICE'],
      [new WorkerError('THREAD_STUCK', 'stuck', { thread: 2, silentMs: 900, timeoutMs: 500 }), 'WorkerError', 'THREAD_STUCK'],
      [thrown(() => createWorkerHost({ threads: 0 })), 'InvalidArgument', 'INVALID_ARGUMENT'],
      [thrown(() => createHttpFront({ name: 'f', log: console as never, limits: { bodyBytes: -1 } })), 'InvalidArgument', 'INVALID_ARGUMENT'],
      [new RemoteError('ACTOR_NOT_FOUND', 'no actor x', { actor: 'x' }), 'RemoteError', 'ACTOR_NOT_FOUND'],
      [new UsageError('usage: .state <id>'), 'UsageError', 'USAGE'],
      [await DebugClient.connect({ socket: '/nonexistent/holdfast.sock' }).catch((e: unknown) => e), 'Error', 'ENOENT'],
      [await DebugClient.connect({ socket: 'x', port: 1 } as never).catch((e: unknown) => e), 'ClientError', 'USAGE'],
    ];
    for (const [error, name, code] of cases) {
      expect((error as Error).name, code).toBe(name);
      expect((error as { code: string }).code).toBe(code);
      if (name === 'Error') continue; // the operating system's own (a socket that is not there)
      expect(isHoldfastError(error), name).toBe(true);
      const json = JSON.parse(JSON.stringify(error)) as { code: string; name: string; details?: unknown };
      expect([json.name, json.code]).toEqual([name, code]);
      const back = errorFromJSON(json as never);
      expect([back.name, back.code, back.details]).toEqual([name, code, (error as { details?: unknown }).details]);
    }
    expect(new SettingsError('x')).toBeInstanceOf(Error);
    expect(new ClientError('NOT_CONNECTED', 'gone').code).toBe('NOT_CONNECTED');
  });
});
