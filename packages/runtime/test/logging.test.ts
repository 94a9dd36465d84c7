import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'logBurst.ts');

/** Run the fixture with a reader that is slower than the writer (the pipe fills), and collect its lines. */
function runBurst(n: number): Promise<{ code: number | null; lines: Array<Record<string, unknown>> }> {
  const child = spawn(process.execPath, ['--conditions=holdfast:source', '--import', 'tsx', fixture, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    text += d;
    // A slow reader: the child's writes back up while it logs and exits.
    child.stdout.pause();
    setTimeout(() => child.stdout.resume(), 2);
  });
  return new Promise((resolve) => {
    child.on('close', (code) =>
      resolve({
        code,
        lines: text
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      }),
    );
  });
}

describe('service logs', () => {
  it('writes out every line, in order, when the service exits right after its last line', async () => {
    const { code, lines } = await runBurst(20_000);
    expect(code).toBe(0);
    expect(lines.length).toBe(20_001);
    expect(lines.at(-1)).toMatchObject({ msg: 'last', n: 20_000 });
    expect(lines.slice(0, -1).every((l, i) => l.i === i)).toBe(true);
  }, 30_000);
});
