/**
 * Exponential backoff with jitter for reconnect loops (HTTP streams, MQTT). Each `next()` returns the next wait in
 * ms: `initialMs · factor^n`, capped at `maxMs`, then spread by ±`jitter` (a fraction, 0–1) so a room of devices that
 * lost the same access point does not reconnect in lockstep. `reset()` after a connection proves healthy.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Growth per attempt; 2 doubles. */
  factor?: number;
  /** Fraction of the delay to randomise, 0 (none) to 1 (anything from 0 to twice the delay). */
  jitter?: number;
  /** Source of randomness in [0, 1); tests pass a fixed one. */
  random?: () => number;
}

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions) {
    const { initialMs, maxMs, factor = 2, jitter = 0.2, random = Math.random } = options;
    if (!(initialMs > 0) || !(maxMs >= initialMs) || !(factor >= 1) || !(jitter >= 0 && jitter <= 1)) {
      throw new RangeError(
        `backoff needs 0 < initialMs ≤ maxMs, factor ≥ 1 and 0 ≤ jitter ≤ 1; got initialMs=${initialMs} maxMs=${maxMs} factor=${factor} jitter=${jitter}`,
      );
    }
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#factor = factor;
    this.#jitter = jitter;
    this.#random = random;
  }

  /** How many waits have been handed out since the last reset. */
  get attempts(): number {
    return this.#attempt;
  }

  next(): number {
    const base = Math.min(this.#maxMs, this.#initialMs * Math.pow(this.#factor, this.#attempt));
    this.#attempt++;
    const spread = base * this.#jitter * (this.#random() * 2 - 1);
    return Math.max(0, Math.min(this.#maxMs, Math.round(base + spread)));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
