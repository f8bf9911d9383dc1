/** One execution's logs: keeps the first `limitBytes`, counts the rest, and says so in a marker. */
export class LogBuffer {
  readonly #limitBytes: number;
  #parts: string[] = [];
  #keptBytes = 0;
  #droppedBytes = 0;
  #full = false;

  constructor(limitBytes: number) {
    this.#limitBytes = limitBytes;
  }

  append(text: string): void {
    if (text.length === 0) return;
    const bytes = Buffer.byteLength(text);
    const room = this.#full ? 0 : this.#limitBytes - this.#keptBytes;
    if (bytes <= room) {
      this.#parts.push(text);
      this.#keptBytes += bytes;
      return;
    }
    let headBytes = 0;
    if (room > 0) {
      // Cutting a UTF-8 sequence leaves a U+FFFD at the end; drop it rather than show garbage.
      const head = Buffer.from(text).subarray(0, room).toString('utf8').replace(/\uFFFD$/, '');
      headBytes = Buffer.byteLength(head);
      this.#parts.push(head);
      this.#keptBytes += headBytes;
    }
    // Full from now on: later, shorter pieces must not slip in after a gap.
    this.#full = true;
    this.#droppedBytes += bytes - headBytes;
  }

  /** Bytes the runtime itself dropped before sending (it enforces the same limit). */
  addDropped(bytes: number): void {
    if (Number.isFinite(bytes) && bytes > 0) this.#droppedBytes += bytes;
  }

  /** Makes the marker account for output the runtime produced but never sent (it stopped at the limit). */
  producedAtLeast(bytes: number): void {
    const missing = bytes - this.#keptBytes - this.#droppedBytes;
    if (missing > 0) this.#droppedBytes += missing;
  }

  get truncated(): boolean {
    return this.#droppedBytes > 0;
  }

  text(): string {
    const body = this.#parts.join('');
    if (!this.truncated) return body;
    const separator = body.endsWith('\n') || body.length === 0 ? '' : '\n';
    return `${body}${separator}[skyscale: log truncated, ${this.#droppedBytes} more bytes not shown]\n`;
  }
}
