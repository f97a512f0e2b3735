import type { I2CDevice, TransferTiming } from "../i2c-bus.ts";

/**
 * The PCF8574's fastest SCL: "100 kHz I2C-bus interface" (TI PCF8574 datasheet, SCPS068, §1 Features and §7.6
 * I2C Interface Timing Requirements: fSCL 0–100 kHz). Many modules answer at 400 kHz on a bench, outside the spec.
 */
export const PCF8574_MAX_HZ = 100_000;

/**
 * The PCF8574 I/O expander as an I2C device: each byte written sets its eight outputs P0–P7. Reads return the pins
 * (quasi-bidirectional: an output written high reads what the load drives; nothing here drives them, so they read
 * as written).
 */
export class PCF8574 implements I2CDevice {
  readonly address: number;
  readonly part: string;
  #outputs = 0xff;
  readonly #onOutputs: (value: number, previous: number, atMs: number) => void;
  readonly #warn: (message: string) => void;

  constructor(part: string, address: number, onOutputs: (value: number, previous: number, atMs: number) => void, warn: (message: string) => void = () => undefined) {
    this.part = part;
    this.address = address;
    this.#onOutputs = onOutputs;
    this.#warn = warn;
  }

  #checkSpeed(hz: number): void {
    if (hz > PCF8574_MAX_HZ) {
      this.#warn(
        `the PCF8574 at 0x${this.address.toString(16)} is clocked at ${hz / 1000} kHz; it is specified to ${PCF8574_MAX_HZ / 1000} kHz (TI datasheet §7.6) — open the I2C bus with hz: 100000`,
      );
    }
  }

  get outputs(): number {
    return this.#outputs;
  }

  write(bytes: Uint8Array, timing: TransferTiming): void {
    this.#checkSpeed(timing.hz);
    for (let i = 0; i < bytes.length; i++) {
      const previous = this.#outputs;
      this.#outputs = bytes[i]!;
      this.#onOutputs(this.#outputs, previous, timing.at(i));
    }
  }

  read(count: number, timing: TransferTiming): Uint8Array {
    this.#checkSpeed(timing.hz);
    return new Uint8Array(count).fill(this.#outputs);
  }
}
