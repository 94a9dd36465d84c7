import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { appDir } from '../../src/service.js';

const app = appDir('showcase');

describe('showcase app', () => {
  it('runs as a real process, tells its story and exits 0', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=holdfast:source', '--import', 'tsx', 'src/main.ts'], {
      cwd: app,
      timeout: 60_000,
    });
    const lines = stdout.trim().split('\n');
    expect(lines).toContain('spawned alice (account), bob (account), carol (account), teller (teller)');
    const transfers = lines.find((l) => l.startsWith('3000 concurrent transfers'));
    expect(transfers).toMatch(/^3000 concurrent transfers: (\d+) done, (\d+) refused; balances \d+ \+ \d+ \+ \d+ = 3000$/);
    const [, done, refused] = /(\d+) done, (\d+) refused/.exec(transfers as string) as RegExpExecArray;
    expect(Number(done) + Number(refused)).toBe(3000);
    expect(lines).toContain('withdraw 1000000 from alice: REJECTED INSUFFICIENT_FUNDS {"balance":1000,"amount":1000000}');
    expect(lines.find((l) => l.startsWith('deposit -5'))).toMatch(/^deposit -5: INVALID_MESSAGE \(invalid input for 'deposit': amount: /);
    expect(lines).toContain('corrupt: ACTOR_CRASHED, cause "ledger checksum mismatch"');
    expect(lines).toContain('alice after restart: balance 1000 (fresh state from init)');
    expect(lines).toContain('supervision tree: bank [one-for-one: alice, bob, carol], teller');
    // Real time: never before the 500 ms timeout (how much later depends on the machine's load).
    const hung = /^ {2}\[event\] alice crashed \(hung: no progress for (\d+) ms in 'freeze' \(heartbeat timeout 500 ms\)\); decision: restart$/.exec(
      lines.find((l) => l.includes('alice crashed (hung')) ?? '',
    );
    expect(Number(hung?.[1])).toBeGreaterThanOrEqual(500);
    expect(lines).toContain('freeze: ACTOR_CRASHED, reason hung, decision restart');
    expect(lines).toContain("alice after the hang: balance 1001 (the zombie's write of 0 never landed)");
    expect(lines).toContain("audit with a 100 ms deadline: ASK_TIMEOUT (ask 'audit' to 'alice' timed out after 100 ms)");
    expect(lines).toContain('ask during shutdown: SHUTTING_DOWN');
    expect(lines).toContain('deposits queued before shutdown answered: 3');
    expect(lines.at(-1)).toMatch(/^shutdown clean in [\d.]+ ms; asks \d+, crashes 2, restarts 2, timeouts 1$/);
  });
});
