import { defineActor, defineProtocol, reject } from '@holdfast/core';
import { z } from 'zod';

/** What an account accepts. Callers and the owner share this. */
export const AccountProtocol = defineProtocol('account', {
  deposit: { input: z.object({ amount: z.number().int().positive() }), reply: z.number() },
  withdraw: { input: z.object({ amount: z.number().int().positive() }), reply: z.number() },
  balance: { input: z.object({}), reply: z.number() },
  audit: { input: z.object({ delayMs: z.number().int().min(0) }), reply: z.string() },
  corrupt: { input: z.object({}) },
  /** Waits for an answer that never comes (a lost callback): the steward finds the turn hung. */
  freeze: { input: z.object({}), reply: z.number() },
});

/** One account: its balance is owned by this actor alone, so no read-modify-write can race. */
export const Account = defineActor(AccountProtocol, {
  init: (args: { opening: number }) => ({ balance: args.opening, ops: 0 }),
  handlers: {
    deposit(state, { amount }) {
      state.balance += amount;
      state.ops++;
      return state.balance;
    },
    withdraw(state, { amount }) {
      if (amount > state.balance) reject('INSUFFICIENT_FUNDS', { balance: state.balance, amount });
      state.balance -= amount;
      state.ops++;
      return state.balance;
    },
    balance: (state) => state.balance,
    async audit(state, { delayMs }, ctx) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delayMs);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
      return `${ctx.self.id}: ${state.ops} operations, balance ${state.balance}`;
    },
    corrupt() {
      throw new Error('ledger checksum mismatch');
    },
    async freeze(state, _input, ctx) {
      // Nothing ever resolves this, until the steward declares the turn hung and aborts its signal.
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      // The zombie goes on: this write lands on the old incarnation's state, which nothing reads.
      state.balance = 0;
      return state.balance;
    },
  },
});

/** What the teller accepts: transfers between accounts. */
export const TellerProtocol = defineProtocol('teller', {
  transfer: { input: z.object({ from: z.string(), to: z.string(), amount: z.number().int().positive() }), reply: z.boolean() },
});

/** Moves money: asks one account to withdraw, then the other to deposit (with a refund if that fails). */
export const Teller = defineActor(TellerProtocol, {
  init: () => ({ done: 0 }),
  handlers: {
    async transfer(state, { from, to, amount }, ctx) {
      const source = ctx.system.lookup(AccountProtocol, from);
      const target = ctx.system.lookup(AccountProtocol, to);
      if (!source || !target) reject('NO_SUCH_ACCOUNT', { from, to });
      await source.ask('withdraw', { amount });
      try {
        await target.ask('deposit', { amount });
      } catch (e) {
        await source.ask('deposit', { amount });
        throw e;
      }
      state.done++;
      return true;
    },
  },
});
