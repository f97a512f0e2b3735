import type { LineObserver } from "../loader/esp-loader.ts";
import type { Session } from "./session.ts";

/** Block sizes the tuner chooses from, largest first: a block is lost whole when one byte of it is damaged. */
const BLOCK_SIZES = [0x4000, 0x1000, 0x400, 0x100];
/** Rates tried below the session's, once blocks are as small as they go. */
const LOWER_RATES = [460800, 230400, 115200];
/** Bytes a block carries besides its data: command header, SLIP framing and the chip's answer. */
const FRAMING = 40;
/** The wait for each answer before the next block goes (about 5 ms on the simulator at 921600 baud, measured). */
const TURNAROUND_MS = 5;
/** Giving up on a write resends what it had sent: only worth it for a clearly better block size. */
const WORTH_RESTARTING = 1.5;
/** The share of the smallest blocks failing that calls for a lower baud. */
const LOWER_RATE_AT = 0.25;
/** Failures seen before the estimate of the line's error rate is trusted enough to change the block size. */
const EVIDENCE = 5;

/**
 * How a flash write uses the line: the block size and the baud. It counts damaged and lost blocks, estimates the
 * line's byte error rate from them and picks the block size that carries the most data per second at that rate;
 * when even the smallest blocks keep failing, it lowers the baud. A marginal cable then finishes, slower.
 */
export class LinkTuner implements LineObserver {
  readonly #session: Session;
  readonly #largest: number;
  #blockSize: number;
  #sends = 0;
  #failures = 0;
  #stepped = false;
  #ratesExhausted = false;

  constructor(session: Session) {
    this.#session = session;
    this.#largest = session.loader.defaultBlockSize;
    this.#blockSize = this.#largest;
  }

  get blockSize(): number {
    return this.#blockSize;
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

  blockSent(failed: boolean): void {
    this.#sends++;
    if (failed) this.#failures++;
  }

  /** Give up on the write when the failures so far say smaller blocks would be much faster. */
  shouldGiveUp(): boolean {
    if (this.#failures < EVIDENCE) return false;
    const best = this.#bestBlock();
    return best < this.#blockSize && this.#throughput(best) > WORTH_RESTARTING * this.#throughput(this.#blockSize);
  }

  /** After a successful write: takes smaller blocks for the next one if the failures seen call for it. */
  settle(): boolean {
    if (this.#failures < EVIDENCE || this.#bestBlock() >= this.#blockSize) return false;
    this.#use(this.#bestBlock());
    return true;
  }

  /**
   * A write failed on the line: takes smaller blocks (the size the failures call for, at least one step smaller),
   * or once blocks are as small as they go and a quarter of them still fail, a lower baud. False when it changed
   * nothing (the write is then simply tried again, within its attempts).
   */
  async stepDown(): Promise<boolean> {
    const smaller = BLOCK_SIZES.find((size) => size < this.#blockSize);
    if (smaller !== undefined) {
      this.#use(Math.min(smaller, this.#bestBlock()));
      return true;
    }
    // Blocks this small fail mostly when the line itself is bad; an occasional loss is retried at the same rate.
    if (this.#ratesExhausted || this.#failures < this.#sends * LOWER_RATE_AT) return false;
    // A rate the adapter cannot hold is skipped (changeBaud goes back to the old one) and the next lower one tried.
    for (const rate of LOWER_RATES.filter((rate) => rate < this.#session.baud)) {
      if (await this.#session.loader.changeBaud(rate)) {
        this.#session.baud = rate;
        this.#use(this.#blockSize);
        return true;
      }
    }
    this.#ratesExhausted = true;
    return false;
  }

  #use(blockSize: number): void {
    this.#blockSize = blockSize;
    this.#sends = 0;
    this.#failures = 0;
    this.#stepped = true;
  }

  /** The byte error rate the counts at the current block size suggest. */
  #errorRate(): number {
    if (this.#failures === 0) return 0;
    const intact = Math.max(this.#sends - this.#failures, 0.5) / this.#sends;
    return -Math.log(intact) / (this.#blockSize + FRAMING);
  }

  /** Data bytes per byte-time of the line, for blocks of `size` at the estimated error rate. */
  #throughput(size: number): number {
    const turnaround = (TURNAROUND_MS / 1000) * (this.#session.baud / 10);
    return (size * Math.exp(-this.#errorRate() * (size + FRAMING))) / (size + FRAMING + turnaround);
  }

  /** The block size with the best expected throughput at the estimated error rate. */
  #bestBlock(): number {
    if (this.#failures === 0) return this.#blockSize;
    const sizes = BLOCK_SIZES.filter((size) => size <= this.#largest);
    return sizes.reduce((best, size) => (this.#throughput(size) > this.#throughput(best) ? size : best), sizes[0]!);
  }
}
