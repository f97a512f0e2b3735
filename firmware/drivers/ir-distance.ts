import { UsageError } from "../core/errors.ts";
import type { AnalogConstructor, AnalogInstance } from "../ports/io.ts";

export interface IrDistanceOptions {
  io: AnalogConstructor;
  pin: number;
  /** Samples per reading; the median rejects the ESP32 ADC's spikes. */
  samples?: number;
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

/** A Sharp GP2Y0A21YK0F distance sensor on an ADC pin: median of several samples, converted to centimetres. */
export class IrDistance {
  readonly #adc: AnalogInstance;
  readonly #samples: number;

  constructor(options: IrDistanceOptions) {
    try {
      this.#adc = new options.io({ pin: options.pin });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new UsageError("IR_PIN", `IR distance sensor Vo on GPIO${options.pin} cannot be opened: ${reason} — use an ADC1 pin (GPIO32–39)`, { cause: error });
    }
    this.#samples = Math.max(1, options.samples ?? 7);
  }

  read(): DistanceReading {
    const max = 2 ** this.#adc.resolution - 1;
    const codes: number[] = [];
    for (let i = 0; i < this.#samples; i++) {
      const code = this.#adc.read();
      if (code !== undefined) codes.push(code);
    }
    if (codes.length === 0) return { volts: Number.NaN, cm: undefined };
    codes.sort((a, b) => a - b);
    const code = codes[codes.length >> 1]!;
    const volts = ADC_ZERO_VOLTS + (code / max) * (ADC_FULL_VOLTS - ADC_ZERO_VOLTS);
    return { volts, cm: centimetres(volts) };
  }

  close(): void {
    this.#adc.close();
  }
}

/** Inverts the fit; undefined where the sensor cannot tell (beyond 80 cm, or in the fold-back under 10 cm). */
export function centimetres(volts: number): number | undefined {
  if (volts <= FIT_OFFSET) return undefined;
  const cm = FIT_K / (volts - FIT_OFFSET);
  return cm < NEAR_CM - 0.5 || cm > FAR_CM + 2 ? undefined : cm;
}
