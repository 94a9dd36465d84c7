import { inspect, styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

/** Where command output goes: tables and colours for people, or JSON lines for scripts. */
export class Printer {
  constructor(
    readonly write: (text: string) => void,
    /** Print results as JSON lines. */
    readonly json: boolean,
    /** Colour the output (a terminal). */
    readonly color: boolean,
  ) {}

  style(s: Style, text: string): string {
    return this.color ? styleText(s, text) : text;
  }

  line(text = ''): void {
    this.write(`${text}\n`);
  }

  /** A result in JSON mode; `human` prints it otherwise. */
  result(value: unknown, human: () => void): void {
    if (this.json) this.line(JSON.stringify(value));
    else human();
  }

  value(v: unknown): string {
    return inspect(v, { colors: this.color, depth: 6, breakLength: 100 });
  }

  /** Aligned columns with a header. */
  table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const fmt = (cells: readonly string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i] as number))
        .join('  ')
        .trimEnd();
    this.line(this.style('bold', fmt(headers)));
    for (const r of rows) this.line(fmt(r));
    if (rows.length === 0) this.line(this.style('dim', '(none)'));
  }

  error(code: string, message: string, details?: unknown): void {
    if (this.json) {
      this.line(JSON.stringify({ error: { code, message, ...(details === undefined ? {} : { details }) } }));
      return;
    }
    this.line(`${this.style('red', code)}: ${message}`);
    const issues = (details as { issues?: Array<{ path?: unknown[]; message: string }> } | undefined)?.issues;
    if (Array.isArray(issues)) {
      for (const i of issues) this.line(`  - ${Array.isArray(i.path) && i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`);
    }
  }
}

/** "3.2s ago", "4m ago", or "-". */
export function ago(at: number | null, now = Date.now()): string {
  if (at === null || at === 0) return '-';
  const s = Math.max(0, now - at) / 1000;
  if (s < 60) return `${s.toFixed(1)}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}
