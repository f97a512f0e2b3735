/** A progress line for a region transfer: bar, bytes, effective kbit/s (uncompressed, as esptool counts) and ETA. */
export class ProgressLine {
  readonly #out: NodeJS.WritableStream & { isTTY?: boolean };
  readonly #now: () => number;
  #label = "";
  #started = 0;
  #lastDrawn = -1;
  #note = "";

  constructor(out: NodeJS.WritableStream & { isTTY?: boolean }, now: () => number = () => performance.now()) {
    this.#out = out;
    this.#now = now;
  }

  start(label: string): void {
    this.#label = label;
    this.#started = this.#now();
    this.#lastDrawn = -1;
  }

  /** Something the reader should see beside the bar from now on (the link slowed down on a noisy line). */
  note(text: string): void {
    this.#note = text;
    this.#lastDrawn = -1;
    if (!this.#out.isTTY) this.#out.write(`${this.#label}: ${text}\n`);
  }

  update(done: number, total: number): void {
    if (!this.#out.isTTY) return;
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    if (percent === this.#lastDrawn) return;
    this.#lastDrawn = percent;
    this.#out.write(`\r${formatProgress(this.#label, done, total, (this.#now() - this.#started) / 1000)}${this.#note ? `  (${this.#note})` : ""}\x1b[K`);
  }

  /** Ends the line with a summary (always printed, TTY or not). */
  finish(summary: string): void {
    this.#out.write(`${this.#out.isTTY ? "\r" : ""}${this.#label}: ${summary}${this.#out.isTTY ? "\x1b[K" : ""}\n`);
  }
}

export function formatProgress(label: string, done: number, total: number, seconds: number): string {
  const width = 24;
  const fraction = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(fraction * width);
  const bar = "█".repeat(filled) + "░".repeat(width - filled);
  // The first moments say nothing about the rate: show it (and the ETA) once a quarter second has passed.
  const rate = seconds >= 0.25 ? (done * 8) / seconds / 1000 : 0;
  const eta = rate > 0 ? `ETA ${(((total - done) * 8) / (rate * 1000)).toFixed(1)} s` : "ETA …";
  return `${label} [${bar}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatBytes(done)}/${formatBytes(total)}  ${rate > 0 ? `${rate.toFixed(0)} kbit/s` : "… kbit/s"}  ${eta}`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(2)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}
