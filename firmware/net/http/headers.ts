/** Response or request headers: names compared without case, order and repeats kept. */
export class HttpHeaders {
  readonly #entries: Array<[string, string]> = [];

  constructor(init?: Record<string, string> | Array<[string, string]>) {
    if (!init) return;
    const pairs = Array.isArray(init) ? init : Object.keys(init).map((name): [string, string] => [name, init[name]!]);
    for (const [name, value] of pairs) this.append(name, value);
  }

  append(name: string, value: string): void {
    this.#entries.push([name, value]);
  }

  /** All values of `name` joined with ", " (RFC 9110 §5.3), or undefined. */
  get(name: string): string | undefined {
    const values = this.getAll(name);
    return values.length === 0 ? undefined : values.join(", ");
  }

  getAll(name: string): string[] {
    const lower = name.toLowerCase();
    const values: string[] = [];
    for (const [key, value] of this.#entries) if (key.toLowerCase() === lower) values.push(value);
    return values;
  }

  has(name: string): boolean {
    return this.getAll(name).length > 0;
  }

  /** Replaces every value of `name`. */
  set(name: string, value: string): void {
    this.delete(name);
    this.append(name, value);
  }

  delete(name: string): void {
    const lower = name.toLowerCase();
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      if (this.#entries[i]![0].toLowerCase() === lower) this.#entries.splice(i, 1);
    }
  }

  entries(): Array<[string, string]> {
    return this.#entries.map(([name, value]): [string, string] => [name, value]);
  }

  /** Whether a comma-separated header such as Connection or Transfer-Encoding lists `token`. */
  hasToken(name: string, token: string): boolean {
    const lower = token.toLowerCase();
    return this.getAll(name).some((value) => value.split(",").some((part) => part.trim().toLowerCase() === lower));
  }
}
