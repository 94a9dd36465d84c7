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
 * Splits a TCP stream into lines, in time linear in the bytes: only a new chunk is searched for
 * `\n`, and the unfinished tail is kept as a list of chunks until its end arrives. `\r\n`
 * endings are accepted; blank lines are skipped. A line longer than `maxBytes` is dropped whole
 * (counted in `tooLong`), without keeping more than `maxBytes` of it in memory.
 */
export class LineSplitter {
  readonly #maxBytes: number;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  /** The line being received is too long: skip to its end. */
  #skipping = false;
  /** Lines dropped for being longer than `maxBytes`. */
  tooLong = 0;

  constructor(maxBytes = 4_096) {
    this.#maxBytes = maxBytes;
  }

  /** The complete lines that `chunk` ends (with what came before it). */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      if (this.#skipping) {
        this.#skipping = false;
      } else {
        let line = chunk.subarray(start, nl);
        if (this.#tailBytes > 0) {
          this.#tail.push(line);
          line = Buffer.concat(this.#tail, this.#tailBytes + line.length);
          this.#tail = [];
          this.#tailBytes = 0;
        }
        if (line.length > this.#maxBytes + 1) this.tooLong++;
        else {
          const end = line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length;
          if (end > this.#maxBytes) this.tooLong++;
          else if (end > 0) lines.push(line.toString('utf8', 0, end));
        }
      }
      start = nl + 1;
    }
    if (start < chunk.length && !this.#skipping) {
      const rest = chunk.length - start;
      if (this.#tailBytes + rest > this.#maxBytes + 1) {
        // Longer than any line may be: forget it, and skip the rest of it as it comes.
        this.tooLong++;
        this.#skipping = true;
        this.#tail = [];
        this.#tailBytes = 0;
      } else {
        // A copy: the socket may reuse the chunk's memory.
        this.#tail.push(Buffer.from(chunk.subarray(start)));
        this.#tailBytes += rest;
      }
    }
    return lines;
  }

  /** Bytes of an unfinished line (received without its `\n`). */
  get pending(): number {
    return this.#tailBytes;
  }
}
