import type { Clock } from "../../firmware/ports/clock.ts";
import { EsplabError } from "../../firmware/core/errors.ts";

/** When each byte of a transaction reaches the device, in board milliseconds. */
export interface TransferTiming {
  /** Time at which data byte `index` (0 = first byte after the address) has been clocked in. */
  at(index: number): number;
  /** The SCL frequency the transfer runs at. */
  hz: number;
}

/** A part on the I2C bus, seen from the bus: it acknowledges its address and takes or gives bytes. */
export interface I2CDevice {
  readonly address: number;
  readonly part: string;
  write(bytes: Uint8Array, timing: TransferTiming): void;
  read(count: number, timing: TransferTiming): Uint8Array;
}

/** The device did not acknowledge: as on the ESP32, the firmware's write or read throws. */
export class I2CNackError extends EsplabError {}

/**
 * One I2C bus on two pins. Transfers take the time they take on the wire (9 clocks per byte plus start and stop at
 * the bus frequency), and the board's clock moves by that much: an LCD sees its bytes at realistic intervals.
 */
export class I2CBus {
  readonly sda: number;
  readonly scl: number;
  #devices = new Map<number, I2CDevice>();
  readonly #clock: Clock;

  constructor(pins: { sda: number; scl: number }, clock: Clock) {
    this.sda = pins.sda;
    this.scl = pins.scl;
    this.#clock = clock;
  }

  attach(device: I2CDevice): void {
    const existing = this.#devices.get(device.address);
    if (existing) {
      throw new EsplabError(
        "I2C_ADDRESS_CONFLICT",
        `${device.part} and ${existing.part} both answer at I2C address ${hex(device.address)} on SDA ${this.sda}/SCL ${this.scl} — ` +
          "change one module's address jumpers (A0–A2)",
      );
    }
    this.#devices.set(device.address, device);
  }

  get addresses(): number[] {
    return [...this.#devices.keys()].sort((a, b) => a - b);
  }

  device(address: number): I2CDevice | undefined {
    return this.#devices.get(address);
  }

  write(address: number, hz: number, bytes: Uint8Array): void {
    const device = this.#require(address);
    const timing = this.#timing(hz);
    try {
      device.write(bytes, timing);
    } finally {
      this.#clock.delay(timing.at(bytes.length - 1) - this.#clock.now());
    }
  }

  read(address: number, hz: number, count: number): Uint8Array {
    const device = this.#require(address);
    const timing = this.#timing(hz);
    try {
      return device.read(count, timing);
    } finally {
      this.#clock.delay(timing.at(count - 1) - this.#clock.now());
    }
  }

  /** When the last transfer's stop condition is on the wire: one bus carries one transfer at a time. */
  #freeAtMs = -Infinity;

  #timing(hz: number): TransferTiming {
    const start = Math.max(this.#clock.now(), this.#freeAtMs);
    const byteMs = (9 * 1000) / hz;
    const overheadMs = (2 * 1000) / hz; // start and stop conditions
    // The address byte goes first: data byte i is complete after i + 2 bytes on the wire.
    const at = (index: number) => start + overheadMs + byteMs * (index + 2);
    return {
      hz,
      at: (index) => {
        this.#freeAtMs = Math.max(this.#freeAtMs, at(index));
        return at(index);
      },
    };
  }

  #require(address: number): I2CDevice {
    const device = this.#devices.get(address);
    if (device) return device;
    const present = this.addresses.map(hex);
    const hint =
      present.length === 0
        ? "nothing answers on this bus — check SDA/SCL wiring and the module's power"
        : `answering here: ${present.join(", ")}${suggest(address, this.addresses)}`;
    throw new I2CNackError(
      "I2C_NACK",
      `no answer from ${hex(address)} on I2C SDA ${this.sda}/SCL ${this.scl} (NACK) — ${hint}`,
    );
  }
}

function suggest(address: number, present: number[]): string {
  const pcf = address >= 0x20 && address <= 0x27;
  const pcfA = address >= 0x38 && address <= 0x3f;
  const other = present.find((p) => (pcf && p >= 0x38 && p <= 0x3f) || (pcfA && p >= 0x20 && p <= 0x27));
  return other !== undefined
    ? `; a PCF8574${pcf ? "A" : ""} backpack answers at ${hex(other)} — try address ${hex(other)}`
    : "";
}

export function hex(address: number): string {
  return `0x${address.toString(16).toUpperCase().padStart(2, "0")}`;
}
