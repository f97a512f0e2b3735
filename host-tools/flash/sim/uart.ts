import { FaultInjector, type FaultOptions } from "./faults.ts";
import type { SimulatedEsp32 } from "./esp32-chip.ts";
import { HOST_LINK_TIMING } from "./timing.ts";

/** Bits per byte on the wire: start bit, 8 data bits, stop bit. */
export const BITS_PER_BYTE = 10;

/**
 * The serial line between host and chip: every byte takes 10 bit times at the chip's current baud in each direction
 * and each transfer waits for the USB-serial adapter's next USB frame (both scaled by timeScale; 0 = instant; see
 * timing.ts), and faults are applied on the way.
 */
export class SimulatedUart {
  readonly #chip: SimulatedEsp32;
  readonly #toHost: (bytes: Uint8Array) => void;
  readonly #disconnect: () => void;
  readonly #timeScale: number;
  readonly #faults: FaultInjector;
  #rxFreeAt = 0;
  #txFreeAt = 0;
  #closed = false;

  constructor(chip: SimulatedEsp32, options: { timeScale: number; faults?: FaultOptions }, toHost: (bytes: Uint8Array) => void, disconnect: () => void) {
    this.#chip = chip;
    this.#toHost = toHost;
    this.#disconnect = disconnect;
    this.#timeScale = options.timeScale;
    this.#faults = new FaultInjector(options.faults);
  }

  /** Bytes the host wrote; they reach the chip once the line has carried them. */
  fromHost(bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.#faults.countHostBytes(bytes.length)) {
      this.close();
      this.#disconnect();
      return;
    }
    const damaged = this.#faults.apply(bytes, this.#chip.baud);
    this.#rxFreeAt = this.#schedule(this.#rxFreeAt, bytes.length, 0, () => this.#chip.receive(damaged));
  }

  /** Bytes the chip sends; they reach the host once the line has carried them. */
  fromChip(bytes: Uint8Array): void {
    if (this.#closed) return;
    const damaged = this.#faults.apply(bytes, this.#chip.baud);
    this.#txFreeAt = this.#schedule(this.#txFreeAt, bytes.length, this.#faults.latencyMs, () => {
      if (!this.#closed) this.#toHost(damaged);
    });
  }

  close(): void {
    this.#closed = true;
  }

  #schedule(freeAt: number, length: number, latencyMs: number, deliver: () => void): number {
    if (this.#timeScale === 0 && latencyMs === 0) {
      deliver();
      return 0;
    }
    const now = performance.now();
    const lineMs = ((length * BITS_PER_BYTE) / this.#chip.baud) * 1000 * this.#timeScale;
    const doneAt = Math.max(now, freeAt) + lineMs;
    // The adapter's USB frame delays a transfer without slowing the line behind it.
    const adapterMs = HOST_LINK_TIMING.usbFrameMs * this.#timeScale;
    setTimeout(deliver, Math.max(0, doneAt + adapterMs + latencyMs - now));
    return doneAt;
  }
}
