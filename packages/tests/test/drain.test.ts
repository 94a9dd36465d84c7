// The drain under load, counted on both sides: keep-alive clients hammer the key-value service
// while it gets SIGTERM. Every request the server read is answered (200 for work that reached an
// actor, 503 with Connection: close once draining), never a 500, never a reset; /readyz turns 503
// first; the process exits 0.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { appDir, request as call, freshStore, startService, until } from '../src/service.js';

interface Tally {
  sent: number;
  byStatus: Map<number, number>;
  /** 503 answers, and how many of them said Connection: close and SHUTTING_DOWN. */
  unavailable: number;
  unavailableClosing: number;
  errors: Map<string, number>;
}

describe('the drain under load', () => {
  it('answers every request it read, with keep-alive clients under load through SIGTERM, and exits 0', async () => {
    const s = await startService(appDir('kv'), ['--config', 'port=0', '--drain-timeout', '10000', ...freshStore('kv').args]);
    const tally: Tally = { sent: 0, byStatus: new Map(), unavailable: 0, unavailableClosing: 0, errors: new Map() };
    const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
    let stop = false;
    const client = async (n: number) => {
      for (let i = 0; !stop; i++) {
        const key = `k${(n * 7 + i) % 50}`;
        const [method, path, body] = i % 3 === 0 ? ['PUT', `/kv/${key}`, `v${i}`] : i % 3 === 1 ? ['GET', `/kv/${key}`] : ['POST', `/kv/c${n}/incr?by=1`];
        tally.sent++;
        try {
          const r = await call(agent, `${s.front}${path}`, method as string, body);
          tally.byStatus.set(r.status, (tally.byStatus.get(r.status) ?? 0) + 1);
          if (r.status === 503) {
            tally.unavailable++;
            if (r.connection === 'close' && (JSON.parse(r.body) as { error: string }).error === 'SHUTTING_DOWN') tally.unavailableClosing++;
          }
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
          tally.errors.set(code, (tally.errors.get(code) ?? 0) + 1);
          // Refused: the listener has closed. The client gives up.
          if (code === 'ECONNREFUSED') return;
        }
      }
    };
    const clients = Array.from({ length: 20 }, (_, n) => client(n));
    await until(() => tally.sent > 2_000, 'load');
    const readiness: number[] = [];
    const watchReady = (async () => {
      for (;;) {
        try {
          readiness.push((await fetch(`${s.admin}/readyz`)).status);
        } catch {
          return; // The admin listener closed: the end of the drain.
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await until(() => readiness.length > 0, 'readiness');
    // One more keep-alive connection, idle after one request: the front keeps it for its close
    // grace (1 s), answering 503 on it, so the drain lasts long enough to watch /readyz.
    const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect((await call(idleAgent, `${s.front}/kv/idle`, 'GET')).status).toBe(404);
    s.child.kill('SIGTERM');
    const code = await s.exited;
    stop = true;
    await Promise.all(clients);
    await watchReady;
    agent.destroy();
    idleAgent.destroy();

    expect(code).toBe(0);
    expect(s.logs.at(-1)).toMatchObject({ msg: 'stopped', clean: true, exitCode: 0 });
    // The order: the drain begins, the front closes (its requests answered), then the system drains and stops.
    const at = (match: (l: Record<string, unknown>) => boolean) => s.logs.findIndex(match);
    const order = [
      at((l) => l.msg === 'draining' && l.reason === 'SIGTERM'),
      at((l) => l.msg === 'front closed'),
      at((l) => l.msg === 'draining' && l.system === 'kv'),
      at((l) => l.msg === 'stopped' && l.system === 'kv'),
    ];
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // Readiness: 200 until the signal, then 503 until the admin listener closed.
    expect(readiness[0]).toBe(200);
    expect(readiness.at(-1)).toBe(503);
    expect(readiness.indexOf(503)).toBe(readiness.lastIndexOf(200) + 1);

    const statuses = [...tally.byStatus.keys()].sort();
    // Answers: the work itself (200, and 404 for a key read before its first write), and 503 once draining.
    expect(statuses.every((st) => [200, 404, 503].includes(st))).toBe(true);
    expect(tally.byStatus.get(200)).toBeGreaterThan(1_000);
    expect(tally.unavailable).toBeGreaterThan(0);
    expect(tally.unavailableClosing).toBe(tally.unavailable);

    // Both sides counted the same: what the server read, it answered, and the clients got every answer.
    const closed = s.logs.find((l) => l.msg === 'front closed') as { received: number; answered: number };
    // (The idle connection's one request is the server's too.)
    const answers = [...tally.byStatus.values()].reduce((a, b) => a + b, 0) + 1;
    expect(closed.answered).toBe(closed.received);
    expect(answers).toBe(closed.answered);
    // What failed on the client side are requests the server never read: the connection was refused,
    // or closed by the server before they reached it (never a reset of one it had read).
    const failed = [...tally.errors.values()].reduce((a, b) => a + b, 0);
    expect(answers - 1 + failed).toBe(tally.sent);
    expect([...tally.errors.keys()].every((k) => ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'socket hang up'].includes(k))).toBe(true);
  });
});
