import { describe, expect, it } from 'vitest';
import { appDir, type RunningService, startService } from '../../src/service.js';

const app = appDir('membership');

interface Member {
  id: string;
  generation: number;
  heartbeat: number;
  status: 'alive' | 'left' | 'dead';
}

const settings = ['gossipMs=100', 'failAfterMs=2000', 'forgetAfterMs=4000', 'fanout=2'].flatMap((s) => ['--config', s]);

function node(port: number, seed?: string): Promise<RunningService> {
  return startService(app, ['--config', `port=${port}`, ...(seed ? ['--config', `seed=${seed}`] : []), ...settings]);
}

const idOf = (n: RunningService) => n.front.replace('http://', '');

async function members(n: RunningService): Promise<Member[]> {
  const r = await fetch(`${n.front}/members`);
  return (await r.json()) as Member[];
}

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every node in `nodes` sees exactly `ids` alive (itself included). */
async function converged(nodes: readonly RunningService[], ids: readonly string[]): Promise<boolean> {
  const want = [...ids].sort().join(',');
  const views = await Promise.all(nodes.map(members));
  return views.every(
    (v) =>
      v
        .filter((m) => m.status === 'alive')
        .map((m) => m.id)
        .join(',') === want,
  );
}

describe('membership cluster (gossip; the member list owned by an actor in each node process)', () => {
  it('5 nodes started through one seed converge; a killed node is taken for dead and forgotten; it rejoins; a node that leaves is known as left', async () => {
    const started: RunningService[] = [];
    try {
      const first = await node(0);
      started.push(first);
      const seed = idOf(first);
      const rest = await Promise.all([1, 2, 3, 4].map(() => node(0, seed)));
      started.push(...rest);
      const nodes = [first, ...rest];
      const ids = nodes.map(idOf);

      // ---- converge: every node sees all five alive
      await until('five nodes to converge', () => converged(nodes, ids));
      for (const view of await Promise.all(nodes.map(members))) {
        expect(view.map((m) => m.id)).toEqual([...ids].sort());
        expect(view.every((m) => m.heartbeat > 0)).toBe(true);
      }

      // ---- one killed (no goodbye): the others take it for dead, then forget it
      const victim = nodes[2] as RunningService;
      const victimId = idOf(victim);
      const victimGeneration = (await members(first)).find((m) => m.id === victimId)?.generation as number;
      victim.child.kill('SIGKILL');
      await victim.exited;
      const survivors = nodes.filter((n) => n !== victim);
      await until('the others to take the killed node for dead', async () =>
        (await Promise.all(survivors.map(members))).every((v) => v.find((m) => m.id === victimId)?.status === 'dead'),
      );
      expect(
        await converged(
          survivors,
          ids.filter((id) => id !== victimId),
        ),
      ).toBe(true);
      await until('the others to forget it', async () => (await Promise.all(survivors.map(members))).every((v) => v.every((m) => m.id !== victimId)));
      for (const n of survivors) expect(n.logs.some((l) => l.msg === 'member taken for dead: no heartbeat' && l.member === victimId)).toBe(true);

      // ---- it rejoins on the same address, through another node, as a new generation
      const back = await node(Number(victimId.split(':')[1]), ids[1]);
      started.push(back);
      const again = [...survivors, back];
      await until('the rejoined node to converge', () => converged(again, ids));
      const seen = (await members(first)).find((m) => m.id === victimId) as Member;
      expect(seen.generation).toBeGreaterThan(victimGeneration);

      // ---- one leaves (SIGTERM): the others know it left (not dead), and it exits cleanly
      const leaver = nodes[4] as RunningService;
      const leaverId = idOf(leaver);
      leaver.child.kill('SIGTERM');
      await until('the leave', async () => leaver.logs.some((l) => l.msg === 'left the cluster'));
      expect(leaver.logs.find((l) => l.msg === 'left the cluster')).toMatchObject({ told: 4, acknowledged: 4 });
      const stay = again.filter((n) => n !== leaver);
      for (const v of await Promise.all(stay.map(members))) expect(v.find((m) => m.id === leaverId)?.status).toBe('left');
      expect(await leaver.exited).toBe(0);
      expect(leaver.logs.at(-1)).toMatchObject({ msg: 'stopped', clean: true });
      expect(
        await converged(
          stay,
          ids.filter((id) => id !== leaverId),
        ),
      ).toBe(true);
      for (const n of stay) expect(n.logs.some((l) => l.msg === 'member taken for dead: no heartbeat' && l.member === leaverId)).toBe(false);
      // Nothing went wrong anywhere (a peer's gossip during a drain is answered 503, not an error).
      expect(started.flatMap((n) => n.logs.filter((l) => (l.level as number) >= 50))).toEqual([]);
    } finally {
      // The nodes still running leave as a service should (SIGTERM); SIGKILL only if one hangs.
      await Promise.all(
        started
          .filter((n) => n.child.exitCode === null && n.child.signalCode === null)
          .map(async (n) => {
            n.child.kill('SIGTERM');
            const timer = setTimeout(() => n.child.kill('SIGKILL'), 10_000);
            await n.exited;
            clearTimeout(timer);
          }),
      );
    }
  }, 90_000);
});
