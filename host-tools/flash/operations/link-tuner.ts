import type { Session } from "./session.ts";

/** Block sizes tried, largest first: a block is lost whole when one byte of it is damaged. */
const BLOCK_SIZES = [0x4000, 0x1000, 0x400, 0x100];
/** Rates tried below the session's, once blocks are as small as they go. */
const LOWER_RATES = [460800, 230400, 115200];

/**
 * How a flash write uses the line: the block size and the baud. Each time a write fails on the line (a block lost
 * or damaged on every try), the next write uses smaller blocks, and once those are as small as they go, a lower baud,
 * so a marginal cable finishes slower instead of failing.
 */
export class LinkTuner {
  readonly #session: Session;
  #blockSize: number;
  #stepped = false;
  #ratesExhausted = false;

  constructor(session: Session) {
    this.#session = session;
    this.#blockSize = session.loader.defaultBlockSize;
  }

  get blockSize(): number {
    return this.#blockSize;
  }

  /** Whether a step down is still possible (so a failing block may be given up on early). */
  get canStepDown(): boolean {
    return this.#smallerBlock() !== undefined || this.#lowerRate() !== undefined;
  }

  /** Whether the link has been slowed down from what the session started with. */
  get stepped(): boolean {
    return this.#stepped;
  }

  /** What the link is now, for the progress line: "1 KB blocks at 460800 baud". */
  describe(): string {
    const size = this.#blockSize >= 1024 ? `${this.#blockSize / 1024} KB` : `${this.#blockSize} B`;
    return `${size} blocks at ${this.#session.baud} baud`;
  }

  /** Takes one step down (smaller blocks first, then a lower baud). False when there is none left. */
  async stepDown(): Promise<boolean> {
    const block = this.#smallerBlock();
    if (block !== undefined) {
      this.#blockSize = block;
      this.#stepped = true;
      return true;
    }
    // A rate the adapter cannot hold is skipped (changeBaud goes back to the old one) and the next lower one tried.
    for (const rate of LOWER_RATES.filter((rate) => rate < this.#session.baud)) {
      if (await this.#session.loader.changeBaud(rate)) {
        this.#session.baud = rate;
        this.#stepped = true;
        return true;
      }
    }
    this.#ratesExhausted = true;
    return false;
  }

  #smallerBlock(): number | undefined {
    return BLOCK_SIZES.find((size) => size < this.#blockSize);
  }

  #lowerRate(): number | undefined {
    return this.#ratesExhausted ? undefined : LOWER_RATES.find((rate) => rate < this.#session.baud);
  }
}
