import type { Clock } from "../../firmware/ports/clock.ts";
import type { IOClasses } from "../../firmware/ports/io.ts";
import { Diagnostics } from "./diagnostics.ts";
import { ADC2_PINS } from "./esp32-pins.ts";
import { I2CBus, I2CNackError } from "./i2c-bus.ts";
import { createIO } from "./io.ts";
import { Nets } from "./nets.ts";
import { gaussian, seededRandom } from "./random.ts";
import { WiringError } from "./wiring-error.ts";
import type { I2COptions } from "../../firmware/ports/io.ts";

/** A PWM output as a part sees it; `undefined` when the output stops. */
export interface PwmSignal {
  hz: number;
  /** 0…1 */
  duty: number;
  /** High time of one period in microseconds: what a servo reads. */
  highUs: number;
  atMs: number;
}

/** A part on the board: a model of real hardware, wired to pins or the I2C bus. */
export interface Part {
  readonly id: string;
  readonly type: string;
  /** The part's visible state (LCD text, servo angle…) for the lab and scenarios. */
  snapshot(): unknown;
}

/** ESP32 ADC at 11 dB attenuation: reads 0 below about 75 mV and saturates near 3.15 V (Espressif's figures). */
const ADC_ZERO_VOLTS = 0.075;
const ADC_FULL_VOLTS = 3.15;
const ADC_NOISE_LSB = 6;
/**
 * What one pin call (Digital read or write) takes on the device: a call from XS into Moddable's native code at
 * 240 MHz, a few hundred cycles. An estimate — not measured on an ESP32 here; it matters only where a line has to
 * settle between two calls (a keypad row after its column is released, see Nets).
 */
const IO_CALL_MS = 0.002;

/**
 * The virtual ESP32 board: pins, I2C buses and the parts wired to them, plus ECMA-419 IO classes (`board.io`) that
 * the same firmware drivers use on the device. Parts register themselves on the board; the firmware only ever sees
 * `board.io`.
 */
export class VirtualBoard {
  readonly clock: Clock;
  readonly diagnostics: Diagnostics;
  readonly nets: Nets;
  readonly random: () => number;
  readonly io: IOClasses;
  readonly #claims = new Map<number, string>();
  readonly #shared = new Map<number, { owner: string; count: number }>();
  readonly #buses: I2CBus[] = [];
  readonly #analog = new Map<number, { part: string; volts: () => number }>();
  /** Which part (and role) each wired pin serves, from the wiring description. */
  readonly #wired = new Map<number, string>();

  /** Records that the wiring connects `pin` to a part ("keypad row 1"). */
  markWired(pin: number, who: string): void {
    this.#wired.set(pin, who);
  }

  /**
   * When the firmware opens a pin the wiring leaves unconnected, says so: a wrong pin number otherwise shows up only
   * as a part that never reacts, or an input that reads a constant.
   */
  checkWired(pin: number, use: string): void {
    if (this.#wired.size === 0 || this.#wired.has(pin)) return;
    const wired = [...this.#wired].sort(([a], [b]) => a - b).map(([p, who]) => `GPIO${p} ${who}`).join(", ");
    this.diagnostics.reportOnce("firmware", "warning", `the firmware uses GPIO${pin} as ${use}, but nothing is wired to it (wired: ${wired}) — check the pin number against the wiring`);
  }
  readonly #pwmListeners = new Map<number, Set<(signal: PwmSignal | undefined) => void>>();
  readonly #pwmState = new Map<number, PwmSignal>();
  readonly #parts = new Map<string, Part>();

  constructor(options: { clock: Clock; seed?: number }) {
    this.clock = options.clock;
    this.random = seededRandom(options.seed ?? 0x5eed);
    this.diagnostics = new Diagnostics(() => this.clock.now());
    this.nets = new Nets(this.diagnostics, this.random, () => this.ioNow());
    this.io = createIO(this);
  }

  #ioBase = Number.NaN;
  #ioCalls = 0;

  /** A pin call happened: the device's time moves on by one call's duration until the clock next moves. */
  ioCall(): void {
    const now = this.clock.now();
    if (now !== this.#ioBase) {
      this.#ioBase = now;
      this.#ioCalls = 0;
    }
    this.#ioCalls++;
  }

  /** The device's time for pin events (ms): the clock, plus the pin calls made since it last moved. */
  ioNow(): number {
    const now = this.clock.now();
    return now === this.#ioBase ? now + this.#ioCalls * IO_CALL_MS : now;
  }

  // ---- parts ----

  addPart<T extends Part>(part: T): T {
    if (this.#parts.has(part.id)) throw new WiringError("PART_ID", `two parts are named "${part.id}" — give each a unique id`);
    this.#parts.set(part.id, part);
    return part;
  }

  part<T extends Part = Part>(id: string): T {
    const part = this.#parts.get(id);
    if (!part) throw new WiringError("PART_ID", `no part "${id}" on this board (parts: ${[...this.#parts.keys()].join(", ") || "none"})`);
    return part as T;
  }

  get parts(): Part[] {
    return [...this.#parts.values()];
  }

  /** The I2C bus on these pins, created when a part is first wired to it. */
  i2cBus(pins: { sda: number; scl: number }): I2CBus {
    let bus = this.#buses.find((b) => b.sda === pins.sda && b.scl === pins.scl);
    if (!bus) this.#buses.push((bus = new I2CBus(pins, this.clock)));
    return bus;
  }

  /** A part puts a voltage on an analog pin; asked each time the firmware samples. */
  provideAnalog(pin: number, part: string, volts: () => number): void {
    this.#analog.set(pin, { part, volts });
  }

  /** A part listens to the PWM signal on a pin (a servo). */
  listenPwm(pin: number, listener: (signal: PwmSignal | undefined) => void): void {
    let listeners = this.#pwmListeners.get(pin);
    if (!listeners) this.#pwmListeners.set(pin, (listeners = new Set()));
    listeners.add(listener);
  }

  pwmSignal(pin: number): PwmSignal | undefined {
    return this.#pwmState.get(pin);
  }

  // ---- used by the IO classes ----

  claim(pin: number, owner: string): void {
    const holder = this.#claims.get(pin) ?? this.#shared.get(pin)?.owner;
    if (holder) {
      throw new WiringError("PIN_IN_USE", `${owner}: GPIO${pin} is already in use by ${holder} — close it first or pick another pin`);
    }
    this.#claims.set(pin, owner);
  }

  release(pin: number): void {
    this.#claims.delete(pin);
  }

  claimShared(pin: number, owner: string): void {
    const holder = this.#claims.get(pin);
    const shared = this.#shared.get(pin);
    if (holder || (shared && shared.owner !== owner)) {
      throw new WiringError("PIN_IN_USE", `${owner}: GPIO${pin} is already in use by ${holder ?? shared!.owner} — pick another pin`);
    }
    if (shared) shared.count++;
    else this.#shared.set(pin, { owner, count: 1 });
  }

  releaseShared(pin: number): void {
    const shared = this.#shared.get(pin);
    if (shared && --shared.count === 0) this.#shared.delete(pin);
  }

  #wifiOn = false;

  /** The firmware started using the network: from now on the Wi-Fi driver holds ADC2. */
  wifiStarted(): void {
    this.#wifiOn = true;
  }

  /**
   * One conversion. On an ADC2 pin while Wi-Fi runs there is none: ESP-IDF's adc_oneshot_read fails (the Wi-Fi
   * driver owns ADC2: ESP-IDF "ADC Oneshot Mode Driver", hardware limitations) and Moddable's Analog.read() then
   * logs "analog onshot_read failed" and returns nothing (modules/io/analog/esp32/_analog.c, xs_analog_read_).
   */
  readAdc(pin: number, resolution: number): number | undefined {
    if (this.#wifiOn && (ADC2_PINS as readonly number[]).includes(pin)) {
      this.diagnostics.reportOnce(
        "firmware",
        "error",
        `GPIO${pin} is on ADC2, which the Wi-Fi driver holds while Wi-Fi runs: every read fails (Moddable's Analog.read() returns undefined and logs "analog onshot_read failed") — wire the sensor to an ADC1 pin (GPIO32–39)`,
      );
      return undefined;
    }
    const source = this.#analog.get(pin);
    const max = 2 ** resolution - 1;
    let volts: number;
    if (source) volts = source.volts();
    else {
      this.diagnostics.reportOnce("firmware", "warning", `GPIO${pin} has no analog part wired to it: the ADC reads a floating input (noise)`);
      volts = this.random() * 0.5;
    }
    const ideal = ((volts - ADC_ZERO_VOLTS) / (ADC_FULL_VOLTS - ADC_ZERO_VOLTS)) * 4095;
    const code12 = Math.round(ideal + gaussian(this.random, ADC_NOISE_LSB));
    const clamped = Math.min(4095, Math.max(0, code12));
    return Math.round((clamped / 4095) * max);
  }

  emitPwm(pin: number, signal: PwmSignal | undefined): void {
    if (signal) this.#pwmState.set(pin, signal);
    else this.#pwmState.delete(pin);
    for (const listener of this.#pwmListeners.get(pin) ?? []) listener(signal);
  }

  i2cTransfer<T>(options: I2COptions, transfer: (bus: I2CBus) => T): T {
    const bus = this.#buses.find((b) => b.sda === options.data && b.scl === options.clock);
    if (bus) return transfer(bus);
    const swapped = this.#buses.find((b) => b.sda === options.clock && b.scl === options.data);
    const address = `0x${options.address.toString(16).toUpperCase().padStart(2, "0")}`;
    const hint = swapped
      ? `the I2C parts are wired to SDA ${swapped.sda}/SCL ${swapped.scl}: SDA and SCL are swapped in the firmware`
      : this.#buses.length
        ? `the I2C parts are wired to ${this.#buses.map((b) => `SDA ${b.sda}/SCL ${b.scl}`).join(" and ")} — use those pins`
        : "nothing is wired to I2C on this board";
    throw new I2CNackError("I2C_NACK", `no answer from ${address} on I2C SDA ${options.data}/SCL ${options.clock} (NACK) — ${hint}`);
  }
}
