/**
 * Splits a byte stream into newline-terminated lines without ever holding more than `maxLineBytes`
 * of an unfinished line: the sandbox is untrusted and may write an endless line.
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #onLine: (line: string) => void;
  readonly #onOverflow: () => void;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #overflowed = false;

  constructor(maxLineBytes: number, onLine: (line: string) => void, onOverflow: () => void) {
    this.#maxLineBytes = maxLineBytes;
    this.#onLine = onLine;
    this.#onOverflow = onOverflow;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (!this.#overflowed) {
      const newline = chunk.indexOf(10, start);
      const end = newline === -1 ? chunk.length : newline;
      if (this.#pendingBytes + (end - start) > this.#maxLineBytes) {
        this.#overflowed = true;
        this.#pending = [];
        this.#onOverflow();
        return;
      }
      if (newline === -1) {
        if (end > start) {
          this.#pending.push(chunk.subarray(start, end));
          this.#pendingBytes += end - start;
        }
        return;
      }
      let line: string;
      if (this.#pending.length > 0) {
        this.#pending.push(chunk.subarray(start, end));
        line = Buffer.concat(this.#pending).toString('utf8');
        this.#pending = [];
        this.#pendingBytes = 0;
      } else {
        line = chunk.toString('utf8', start, end);
      }
      start = newline + 1;
      this.#onLine(line);
    }
  }
}
