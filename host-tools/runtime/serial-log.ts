/** What the firmware prints, as a serial console shows it: timestamped lines, kept up to a limit, with listeners. */
export interface SerialLine {
  atMs: number;
  text: string;
}

export class SerialLog {
  readonly lines: SerialLine[] = [];
  readonly #listeners = new Set<(line: SerialLine) => void>();
  readonly #now: () => number;
  readonly #limit: number;

  constructor(now: () => number, limit = 2000) {
    this.#now = now;
    this.#limit = limit;
  }

  write = (text: string): void => {
    for (const part of text.split("\n")) {
      const line = { atMs: this.#now(), text: part };
      this.lines.push(line);
      if (this.lines.length > this.#limit) this.lines.shift();
      for (const listener of this.#listeners) listener(line);
    }
  };

  listen(listener: (line: SerialLine) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Lines containing `text`, for tests and scenarios. */
  find(text: string | RegExp): SerialLine[] {
    return this.lines.filter((line) => (typeof text === "string" ? line.text.includes(text) : text.test(line.text)));
  }
}
