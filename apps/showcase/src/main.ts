import { createSystem, isHoldfastError } from '@holdfast/core';
import { Account, Teller } from './bank.js';

const say = (line: string) => console.log(line);
const system = createSystem({ name: 'showcase', askTimeoutMs: 2_000 });
system.events.subscribe((e) => {
  if (e.type === 'crashed') say(`  [event] ${e.actor} crashed (${e.reason}: ${e.error.message}); decision: ${e.decision}`);
  if (e.type === 'restarted') say(`  [event] ${e.actor} restarted as incarnation ${e.incarnation}`);
});

say('Holdfast showcase: accounts owned by actors\n');
const ids = ['alice', 'bob', 'carol'];
// The accounts live under a steward that restarts them one by one, and declares a turn hung after
// 500 ms without progress (30 s by default; short here for the demonstration).
const bank = system.steward('bank', { strategy: 'one-for-one', heartbeat: { timeoutMs: 500, sweepMs: 50 } });
const accounts = ids.map((id) => bank.spawn(Account, { id, args: { opening: 1_000 } }));
const teller = system.spawn(Teller, { id: 'teller' });
say(
  `spawned ${system
    .actors()
    .map((a) => `${a.id} (${a.type})`)
    .join(', ')}`,
);
const tree = system.tree();
say(
  `supervision tree: ${tree.children.map((c) => (c.kind === 'steward' ? `${c.name} [${c.strategy}: ${c.children.map((a) => (a.kind === 'actor' ? a.id : a.name)).join(', ')}]` : c.id)).join(', ')}`,
);

// 3,000 concurrent transfers in random directions: the total never changes.
let ok = 0;
let refused = 0;
const transfers = Array.from({ length: 3_000 }, (_, i) => {
  const from = ids[i % 3] as string;
  const to = ids[(i * 7 + 1) % 3] as string;
  return teller.ask('transfer', { from, to: from === to ? (ids[(i + 1) % 3] as string) : to, amount: 1 + (i % 50) }).then(
    () => ok++,
    (e) => {
      if (isHoldfastError(e, 'REJECTED')) refused++;
      else throw e;
    },
  );
});
await Promise.all(transfers);
const balances = await Promise.all(accounts.map((a) => a.ask('balance', {})));
say(`3000 concurrent transfers: ${ok} done, ${refused} refused; balances ${balances.join(' + ')} = ${balances.reduce((a, b) => a + b, 0)}`);

// A business refusal keeps the state.
const alice = accounts[0];
if (alice === undefined) throw new Error('no alice');
try {
  await alice.ask('withdraw', { amount: 1_000_000 });
} catch (e) {
  if (isHoldfastError(e, 'REJECTED')) say(`withdraw 1000000 from alice: REJECTED ${e.details.reason} ${JSON.stringify(e.details.details)}`);
}

// Bad input never reaches the mailbox.
try {
  await alice.ask('deposit', { amount: -5 });
} catch (e) {
  if (isHoldfastError(e, 'INVALID_MESSAGE')) say(`deposit -5: INVALID_MESSAGE (${e.message})`);
}

// A crash fails its caller at once; the actor restarts from init with the same ref.
try {
  await alice.ask('corrupt', {});
} catch (e) {
  if (isHoldfastError(e, 'ACTOR_CRASHED')) say(`corrupt: ACTOR_CRASHED, cause "${(e.cause as Error).message}"`);
}
say(`alice after restart: balance ${await alice.ask('balance', {})} (fresh state from init)`);

// A turn that never ends is found by the steward's heartbeat sweep: its caller gets ACTOR_CRASHED
// (reason hung) long before its 2 s deadline, and the zombie's later write is fenced off.
try {
  await alice.ask('freeze', {});
} catch (e) {
  if (isHoldfastError(e, 'ACTOR_CRASHED')) say(`freeze: ACTOR_CRASHED, reason ${e.details.reason}, decision ${e.details.decision}`);
}
await alice.ask('deposit', { amount: 1 });
say(`alice after the hang: balance ${await alice.ask('balance', {})} (the zombie's write of 0 never landed)`);

// Every ask has a deadline; the handler sees the abort through ctx.signal.
try {
  await alice.ask('audit', { delayMs: 5_000 }, { timeoutMs: 100 });
} catch (e) {
  if (isHoldfastError(e, 'ASK_TIMEOUT')) say(`audit with a 100 ms deadline: ASK_TIMEOUT (${e.message})`);
}
say(`audit: ${await alice.ask('audit', { delayMs: 10 })}`);

// Graceful shutdown: queued work finishes, new outside asks are refused.
const last = accounts.map((a) => a.ask('deposit', { amount: 1 }));
const report = system.shutdown();
try {
  await alice.ask('balance', {});
} catch (e) {
  if (isHoldfastError(e, 'SHUTTING_DOWN')) say('ask during shutdown: SHUTTING_DOWN');
}
say(`deposits queued before shutdown answered: ${(await Promise.all(last)).length}`);
const { clean, durationMs } = await report;
const stats = system.stats();
say(
  `shutdown ${clean ? 'clean' : 'NOT clean'} in ${durationMs.toFixed(1)} ms; asks ${stats.asks}, crashes ${stats.crashes}, restarts ${stats.restarts}, timeouts ${stats.timeouts}`,
);
