/**
 * What the virtual board noticed that real hardware would punish: a lost LCD command, a floating input, a servo
 * driven into its stop. Each entry names the part, the pin or address, and the fix.
 */
export type Severity = "info" | "warning" | "error";

export interface Diagnostic {
  atMs: number;
  part: string;
  severity: Severity;
  message: string;
}

export class Diagnostics {
  readonly entries: Diagnostic[] = [];
  #listeners = new Set<(entry: Diagnostic) => void>();
  #seen = new Set<string>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  report(part: string, severity: Severity, message: string): void {
    const entry = { atMs: this.#now(), part, severity, message };
    this.entries.push(entry);
    if (this.entries.length > 1000) this.entries.shift();
    for (const listener of this.#listeners) listener(entry);
  }

  /** Reports only the first time this exact message appears (for conditions that persist, like a floating pin). */
  reportOnce(part: string, severity: Severity, message: string): void {
    const key = `${part}\u0000${message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.report(part, severity, message);
  }

  listen(listener: (entry: Diagnostic) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Entries of a part (or all), optionally at least of a severity. */
  of(part?: string, minimum: Severity = "info"): Diagnostic[] {
    const rank = { info: 0, warning: 1, error: 2 };
    return this.entries.filter((e) => (!part || e.part === part) && rank[e.severity] >= rank[minimum]);
  }
}
