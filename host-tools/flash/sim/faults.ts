/** Line faults the simulator can inject, all driven by one seeded generator so a failing run can be replayed. */
export interface FaultOptions {
  /** Seed of the generator (runs with the same seed and traffic fail the same way). */
  seed?: number;
  /** Probability that a byte, in either direction, is lost. */
  dropRate?: number;
  /** Probability that a byte, in either direction, has one bit flipped. */
  corruptRate?: number;
  /** Extra delay (ms) before the chip's bytes reach the host. */
  latencyMs?: number;
  /** Close the connection after the host has sent this many bytes (a cable pulled mid-write). */
  disconnectAfterBytes?: number;
  /** An adapter that cannot keep up: above this baud, bytes are corrupted with `unreliableRate`. */
  unreliableAbove?: number;
  unreliableRate?: number;
}

/** Applies FaultOptions to byte chunks. */
export class FaultInjector {
  readonly #options: FaultOptions;
  #state: number;
  #hostBytes = 0;

  constructor(options: FaultOptions = {}) {
    this.#options = options;
    this.#state = (options.seed ?? 1) >>> 0 || 1;
  }

  get latencyMs(): number {
    return this.#options.latencyMs ?? 0;
  }

  /** True once the host has sent more than disconnectAfterBytes. */
  countHostBytes(count: number): boolean {
    this.#hostBytes += count;
    const limit = this.#options.disconnectAfterBytes;
    return limit !== undefined && this.#hostBytes >= limit;
  }

  apply(bytes: Uint8Array, baud: number): Uint8Array {
    const drop = this.#options.dropRate ?? 0;
    const unreliable = this.#options.unreliableAbove !== undefined && baud > this.#options.unreliableAbove;
    const corrupt = (this.#options.corruptRate ?? 0) + (unreliable ? (this.#options.unreliableRate ?? 0.02) : 0);
    if (drop === 0 && corrupt === 0) return bytes;
    const out: number[] = [];
    for (const byte of bytes) {
      if (drop > 0 && this.#random() < drop) continue;
      out.push(corrupt > 0 && this.#random() < corrupt ? byte ^ (1 << Math.floor(this.#random() * 8)) : byte);
    }
    return Uint8Array.from(out);
  }

  /** mulberry32: small, fast and good enough to pick which bytes to damage. */
  #random(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
