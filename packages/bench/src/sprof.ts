import { z } from 'zod';
import { createSystem, defineActor, defineProtocol } from '@holdfast/core';
const P = defineProtocol('counter', { add: { input: z.object({ by: z.number().int() }), reply: z.number() } });
const A = defineActor(P, { init: () => ({ total: 0 }), handlers: { add: (s, { by }) => (s.total += by) } });
for (let r = 0; r < 6; r++) {
  const system = createSystem({ validate: { input: false, reply: false } });
  const t = performance.now();
  const refs = [];
  for (let i = 0; i < 100_000; i++) refs.push(system.spawn(A, { id: `s${i}` }));
  const t1 = performance.now();
  for (let i = 0; i < 100_000; i += 10_000) await Promise.all(refs.slice(i, i + 10_000).map((x) => x.ask('add', { by: 1 })));
  const t2 = performance.now();
  await system.shutdown();
  console.log(`spawn ${(t1 - t).toFixed(0)} ms, ask ${(t2 - t1).toFixed(0)} ms, shutdown ${(performance.now() - t2).toFixed(0)} ms`);
}
