import type { I2CDevice, TransferTiming } from "../i2c-bus.ts";

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

  constructor(part: string, address: number, onOutputs: (value: number, previous: number, atMs: number) => void) {
    this.part = part;
    this.address = address;
    this.#onOutputs = onOutputs;
  }

  get outputs(): number {
    return this.#outputs;
  }

  write(bytes: Uint8Array, timing: TransferTiming): void {
    for (let i = 0; i < bytes.length; i++) {
      const previous = this.#outputs;
      this.#outputs = bytes[i]!;
      this.#onOutputs(this.#outputs, previous, timing.at(i));
    }
  }

  read(count: number): Uint8Array {
    return new Uint8Array(count).fill(this.#outputs);
  }
}
