/**
 * Splits a byte stream into lines (`\n`, with an optional `\r` before it), in time linear in the
 * bytes: only a new chunk is searched, and a partial line is kept as a list of chunks until its
 * end arrives. A line longer than `maxBytes` sets `overflowed` and nothing more is read.
 */
export class LineReader {
  readonly #maxBytes: number;
  #parts: Buffer[] = [];
  #partBytes = 0;
  overflowed = false;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** The complete, non-blank lines that `chunk` ends. */
  push(chunk: Buffer): string[] {
    if (this.overflowed) return [];
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
      let piece = chunk.subarray(start, nl);
      if (this.#parts.length > 0) {
        this.#parts.push(piece);
        piece = Buffer.concat(this.#parts, this.#partBytes + piece.length);
        this.#parts = [];
        this.#partBytes = 0;
      }
      if (piece.length > this.#maxBytes) {
        this.overflowed = true;
        return lines;
      }
      const line = piece.toString('utf8').trim();
      if (line.length > 0) lines.push(line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.#partBytes += chunk.length - start;
      if (this.#partBytes > this.#maxBytes) {
        this.overflowed = true;
        this.#parts = [];
        return lines;
      }
      // A copy: the stream may reuse the chunk's memory.
      this.#parts.push(Buffer.from(chunk.subarray(start)));
    }
    return lines;
  }
}
