// The bank's durable ledger: accounts whose balances survive crashes and restarts, and transfers
// that finish even if the process dies half-way through one.
//
// A transfer touches two accounts, and no transaction spans two actors. So a transfer is an actor
// of its own (a saga): it records what it is about to do, then asks the source to debit and the
// target to credit, each step idempotent (an account remembers the transfers it applied), and a
// durable reminder drives it again after a crash until it is done. Money is never created or
// lost: at any moment, the balances plus the transfers between their debit and their credit sum
// to what was opened.
import { type ActorContext, defineActor, defineProtocol, isHoldfastError, reject } from '@holdfast/core';
import { z } from 'zod';

const Id = z.string().min(1).max(64);
const Amount = z.number().int().positive().max(1_000_000_000);

/** How many applied transfers an account remembers (a retry comes within seconds, not after this many transfers). */
export const REMEMBERED = 10_000;

export const LedgerAccountProtocol = defineProtocol('ledger-account', {
  /** Open the account with `opening` (once: opening it again changes nothing). Replies with the balance. */
  open: { input: z.object({ opening: z.number().int().min(0) }), reply: z.number() },
  balance: { input: z.object({}), reply: z.number(), readonly: true },
  /** Take `amount` for transfer `transfer` (once per transfer). Refuses `INSUFFICIENT_FUNDS` and `NO_SUCH_ACCOUNT`. */
  debit: { input: z.object({ transfer: Id, amount: Amount }), reply: z.number() },
  /** Add `amount` for transfer `transfer` (once per transfer). Refuses `NO_SUCH_ACCOUNT`. */
  credit: { input: z.object({ transfer: z.string().min(1).max(80), amount: Amount }), reply: z.number() },
});

const AccountState = z.object({
  opened: z.boolean(),
  balance: z.number().int().min(0),
  /** Transfers applied here, oldest first (bounded by REMEMBERED). */
  applied: z.array(z.string()),
});
type AccountState = z.infer<typeof AccountState>;

function apply(s: AccountState, transfer: string, change: number): number {
  if (s.applied.includes(transfer)) return s.balance;
  s.balance += change;
  s.applied.push(transfer);
  if (s.applied.length > REMEMBERED) s.applied.splice(0, s.applied.length - REMEMBERED);
  return s.balance;
}

/** An account: a durable actor per account id. */
export const LedgerAccount = defineActor(LedgerAccountProtocol, {
  durable: { schema: AccountState },
  init: (): AccountState => ({ opened: false, balance: 0, applied: [] }),
  handlers: {
    open(s, { opening }) {
      if (!s.opened) {
        s.opened = true;
        s.balance = opening;
      }
      return s.balance;
    },
    balance: (s) => s.balance,
    debit(s, { transfer, amount }, ctx) {
      if (!s.opened) reject('NO_SUCH_ACCOUNT', { account: ctx.self.id });
      if (s.applied.includes(transfer)) return s.balance;
      if (amount > s.balance) reject('INSUFFICIENT_FUNDS', { account: ctx.self.id, balance: s.balance, amount });
      return apply(s, transfer, -amount);
    },
    credit(s, { transfer, amount }, ctx) {
      if (!s.opened) reject('NO_SUCH_ACCOUNT', { account: ctx.self.id });
      return apply(s, transfer, amount);
    },
  },
});

/** Where a transfer is. `done` and `refused` are final. */
export type TransferStage = 'new' | 'debiting' | 'crediting' | 'refunding' | 'done' | 'refused';

export const TransferProtocol = defineProtocol('transfer', {
  /** Start (or join) the transfer and wait for its outcome. Refuses like the accounts do. */
  start: {
    input: z.object({ from: Id, to: Id, amount: Amount, retryMs: z.number().int().min(10).max(3_600_000).default(1_000) }),
    reply: z.object({ stage: z.enum(['done']), from: Id, to: Id, amount: Amount }),
  },
  /** The reminder's message: take the transfer one step further after a crash. */
  drive: { input: z.object({}) },
  status: { input: z.object({}), reply: z.object({ stage: z.string(), error: z.string().nullable() }), readonly: true },
});

const TransferState = z.object({
  stage: z.enum(['new', 'debiting', 'crediting', 'refunding', 'done', 'refused']),
  from: z.string(),
  to: z.string(),
  amount: z.number().int().min(0),
  retryMs: z.number().int(),
  error: z.string().nullable(),
});
type TransferState = z.infer<typeof TransferState>;
type TransferContext = ActorContext<typeof TransferProtocol>;

const DRIVE = 'drive';

/** Run the transfer until it is final, or until a step fails for a reason worth retrying (then it throws: the reminder drives it again). */
async function advance(s: TransferState, ctx: TransferContext): Promise<void> {
  const id = ctx.self.id;
  const account = (name: string) => ctx.system.ref(LedgerAccount, name);
  while (s.stage !== 'done' && s.stage !== 'refused') {
    try {
      if (s.stage === 'debiting') {
        await account(s.from).ask('debit', { transfer: id, amount: s.amount });
        s.stage = 'crediting';
      } else if (s.stage === 'crediting') {
        await account(s.to).ask('credit', { transfer: id, amount: s.amount });
        s.stage = 'done';
      } else if (s.stage === 'refunding') {
        await account(s.from).ask('credit', { transfer: `${id}:refund`, amount: s.amount });
        s.stage = 'refused';
      } else {
        return;
      }
    } catch (e) {
      if (!isHoldfastError(e, 'REJECTED')) throw e;
      // A refusal is an answer: the source cannot pay (nothing moved), or the target does not exist (give it back).
      s.error = e.details.reason;
      s.stage = s.stage === 'crediting' ? 'refunding' : 'refused';
    }
  }
  ctx.cancelReminder(DRIVE);
}

/** A transfer: a durable actor per transfer id (the caller's idempotency key). */
export const Transfer = defineActor(TransferProtocol, {
  durable: { schema: TransferState },
  init: (): TransferState => ({ stage: 'new', from: '', to: '', amount: 0, retryMs: 1_000, error: null }),
  handlers: {
    async start(s, { from, to, amount, retryMs }, ctx) {
      if (s.stage === 'new') {
        if (from === to) reject('SAME_ACCOUNT', { from, to });
        Object.assign(s, { stage: 'debiting', from, to, amount, retryMs });
        // Committed with the state before the debit leaves: if the process dies from here on, this drives it again.
        ctx.remind(DRIVE, { afterMs: retryMs }, 'drive', {});
      } else if (s.from !== from || s.to !== to || s.amount !== amount) {
        reject('TRANSFER_ID_REUSED', { transfer: ctx.self.id });
      }
      await advance(s, ctx);
      if (s.stage === 'refused') reject(s.error ?? 'REFUSED', { transfer: ctx.self.id, from: s.from, to: s.to });
      return { stage: 'done' as const, from: s.from, to: s.to, amount: s.amount };
    },
    async drive(s, _input, ctx) {
      // Handling the reminder removes it: set it again first, in case this try fails too.
      if (s.stage !== 'done' && s.stage !== 'refused') ctx.remind(DRIVE, { afterMs: s.retryMs }, 'drive', {});
      await advance(s, ctx);
    },
    status: (s) => ({ stage: s.stage, error: s.error }),
  },
});
