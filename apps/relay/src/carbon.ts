// The carbon plaintext protocol: one metric per line, `path value timestamp`, fields separated by
// spaces, the line ended by `\n`. The relay forwards lines as they came; it parses them only to
// refuse what a carbon server would refuse.

/** A metric path: dot-separated, no whitespace. */
const PATH = /^[^\s]+$/;
/** A value: a decimal or exponent number (graphite also takes `nan`, as carbon does). */
const VALUE = /^(?:[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|NaN)$/;
/** A timestamp: Unix seconds, possibly with a fraction; -1 means "now" in carbon. */
const TIMESTAMP = /^(?:-1|\d+(?:\.\d+)?)$/;

/** The parts of a valid line, or null for a line a carbon server would drop. */
export function parseLine(line: string): { path: string; value: string; timestamp: string } | null {
  const parts = line.split(' ');
  if (parts.length !== 3) return null;
  const [path, value, timestamp] = parts as [string, string, string];
  if (!PATH.test(path) || !VALUE.test(value) || !TIMESTAMP.test(timestamp)) return null;
  return { path, value, timestamp };
}

/**
 * Splits a TCP stream into lines. Keeps the unfinished tail between chunks; `\r\n` endings are
 * accepted; blank lines are skipped.
 */
export class LineSplitter {
  #tail = '';

  /** The complete lines in `chunk` (with what came before it). */
  push(chunk: string): string[] {
    const text = this.#tail + chunk;
    const last = text.lastIndexOf('\n');
    if (last < 0) {
      this.#tail = text;
      return [];
    }
    this.#tail = text.slice(last + 1);
    const lines: string[] = [];
    for (const raw of text.slice(0, last).split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.length > 0) lines.push(line);
    }
    return lines;
  }

  /** Bytes of an unfinished line (received without its `\n`). */
  get pending(): number {
    return this.#tail.length;
  }
}
