import { UsageError } from "../core/errors.ts";
import type { Clock, TimerHandle } from "../ports/clock.ts";
import type { AnalogConstructor, AnalogInstance } from "../ports/io.ts";

export interface IrDistanceOptions {
  io: AnalogConstructor;
  pin: number;
  clock: Clock;
  /** ADC samples per measurement: their median rejects a sample caught by the LED's pulse on the supply. */
  samples?: number;
  /** Measurements a reading is the median of: a single wrong measurement never reaches it. */
  window?: number;
}

export interface DistanceReading {
  /** NaN when no sample converted (an ADC2 pin while Wi-Fi runs: wire Vo to ADC1, GPIO32–39). */
  volts: number;
  /** Centimetres, or undefined outside the sensor's 10–80 cm range (closer than 10 cm the curve folds back). */
  cm: number | undefined;
}

/** ESP32 ADC at 11 dB: code 0 ≈ 0.075 V, code 4095 ≈ 3.15 V (Espressif's typical figures; calibrate per chip for better). */
const ADC_ZERO_VOLTS = 0.075;
const ADC_FULL_VOLTS = 3.15;
/** The published fit of the GP2Y0A21YK0F: V ≈ 21/d + 0.19 (d in cm). */
const FIT_K = 21;
const FIT_OFFSET = 0.19;
const NEAR_CM = 10;
const FAR_CM = 80;
/**
 * The sensor measures every 38.3 ± 9.6 ms (datasheet timing chart). Sampled every 40 ms, one measurement is seen at
 * most twice, so a median of 5 rejects a wrong one even then.
 */
const MEASURE_EVERY_MS = 40;

/**
 * A Sharp GP2Y0A21YK0F distance sensor on an ADC pin. It measures by itself every 40 ms (the median of a few ADC
 * samples) and a reading is the median of the last few measurements, converted to centimetres: the part's spikes and
 * its odd wrong measurement are filtered out, at the cost of about 120 ms before a change shows.
 */
export class IrDistance {
  readonly #adc: AnalogInstance;
  readonly #clock: Clock;
  readonly #samples: number;
  readonly #window: number;
  /** The latest measurements' ADC codes, oldest first; NaN for one with no conversion. */
  readonly #codes: number[] = [];
  #timer: TimerHandle | undefined;

  constructor(options: IrDistanceOptions) {
    try {
      this.#adc = new options.io({ pin: options.pin });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new UsageError("IR_PIN", `IR distance sensor Vo on GPIO${options.pin} cannot be opened: ${reason} — use an ADC1 pin (GPIO32–39)`, { cause: error });
    }
    this.#clock = options.clock;
    this.#samples = Math.max(1, Math.floor(options.samples ?? 5));
    this.#window = Math.max(1, Math.floor(options.window ?? 5));
    this.#timer = this.#clock.setInterval(() => this.#measure(), MEASURE_EVERY_MS);
  }

  read(): DistanceReading {
    if (this.#codes.length === 0) this.#measure(); // just opened: one measurement is better than none
    const latest = this.#codes[this.#codes.length - 1]!;
    if (Number.isNaN(latest)) return { volts: Number.NaN, cm: undefined };
    const code = median(this.#codes.filter((c) => !Number.isNaN(c)));
    const volts = ADC_ZERO_VOLTS + (code / (2 ** this.#adc.resolution - 1)) * (ADC_FULL_VOLTS - ADC_ZERO_VOLTS);
    return { volts, cm: centimetres(volts) };
  }

  close(): void {
    this.#clock.clear(this.#timer);
    this.#timer = undefined;
    this.#adc.close();
  }

  #measure(): void {
    const codes: number[] = [];
    for (let i = 0; i < this.#samples; i++) {
      const code = this.#adc.read();
      if (code !== undefined) codes.push(code);
    }
    this.#codes.push(codes.length ? median(codes) : Number.NaN);
    if (this.#codes.length > this.#window) this.#codes.shift();
  }
}

/** The middle value (the upper one of an even count); `values` must not be empty. */
function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

/** Inverts the fit; undefined where the sensor cannot tell (beyond 80 cm, or in the fold-back under 10 cm). */
export function centimetres(volts: number): number | undefined {
  if (volts <= FIT_OFFSET) return undefined;
  const cm = FIT_K / (volts - FIT_OFFSET);
  return cm < NEAR_CM - 0.5 || cm > FAR_CM + 2 ? undefined : cm;
}
