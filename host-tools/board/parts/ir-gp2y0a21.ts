import type { Part, VirtualBoard } from "../board.ts";
import { registerPartKind } from "../description.ts";
import { gaussian } from "../random.ts";

/**
 * Figures from Sharp's GP2Y0A21YK0F datasheet (sheet E4-A00201EN): "Timing chart" — a new measurement every
 * 38.3 ± 9.6 ms, the output held between them; "Electro-optical characteristics" — 10–80 cm, Vo 0.4 V (0.25–0.55)
 * at 80 cm, 1.9 V (1.65–2.15) more at 10 cm; "Notes, advice for the power supply" — a bypass capacitor of 10 µF or
 * more at the sensor, because the LED's pulsed current disturbs the supply and with it the output.
 */
const PERIOD_TYP_MS = 38.3;
const PERIOD_SPREAD_MS = 9.6;
/** Below about 7 cm the curve folds back: one voltage, two distances. */
const PEAK_CM = 7;

/**
 * The datasheet gives no noise figures; these are typical of bench readings of the part on a breadboard, and chosen
 * so that an unfiltered read is visibly wrong now and then while the filtering the driver does (a median per
 * measurement, a median over measurements) removes it:
 * - each measurement scatters by 10 mV (1 cm at 45 cm, 5 cm at 80 cm: the reflected light falls with distance²);
 * - one measurement in 200 is wrong altogether (an edge, a glossy surface or sunlight in the detector's view);
 * - one ADC sample in 25 catches the supply dip of an LED pulse, 80–400 mV off (no bypass capacitor, as wired in class).
 */
const MEASUREMENT_SIGMA_VOLTS = 0.01;
const WRONG_MEASUREMENT_CHANCE = 1 / 200;
const PULSE_SPIKE_CHANCE = 1 / 25;

/**
 * Output voltage for a distance, after the published fit V ≈ 21/d + 0.19 over 10–80 cm (0.45 V at 80 cm, 2.3 V at
 * 10 cm), peaking near 3.2 V at 7 cm and falling towards 0 V closer in.
 */
export function sharpVolts(cm: number): number {
  if (cm >= PEAK_CM) return 21 / cm + 0.19;
  const peak = 21 / PEAK_CM + 0.19;
  return peak * Math.max(0, cm / PEAK_CM) ** 0.8;
}

/**
 * A Sharp GP2Y0A21YK0F distance sensor on an analog pin: a measurement every period (this unit's own, within the
 * datasheet's 38.3 ± 9.6 ms), held until the next, with the noise and outliers described above. The ADC's own noise
 * is added by the board. Not modelled: the unstable output in the first ~50 ms after power-up (the ESP32's boot
 * outlasts it) and the spread between units of the curve itself.
 */
export class IrGp2y0a21 implements Part {
  readonly id: string;
  readonly type = "ir-gp2y0a21";
  readonly pin: number;
  /** This unit's measurement period. */
  readonly periodMs: number;
  readonly #board: VirtualBoard;
  #distanceCm = 40;
  #heldVolts: number;
  #heldAt: number;

  constructor(id: string, board: VirtualBoard, options: { pin: number }) {
    this.id = id;
    this.#board = board;
    this.pin = options.pin;
    this.periodMs = Math.round((PERIOD_TYP_MS + (board.random() * 2 - 1) * PERIOD_SPREAD_MS) * 10) / 10;
    this.#heldAt = board.clock.now();
    this.#heldVolts = sharpVolts(this.#distanceCm);
    board.provideAnalog(this.pin, id, () => this.#sample());
  }

  setDistanceCm(cm: number): void {
    this.#distanceCm = Math.max(0, cm);
  }

  get distanceCm(): number {
    return this.#distanceCm;
  }

  /** The output now: the last measurement, held until the next one is due. */
  get volts(): number {
    const now = this.#board.clock.now();
    if (now - this.#heldAt >= this.periodMs) {
      this.#heldAt += Math.floor((now - this.#heldAt) / this.periodMs) * this.periodMs;
      this.#heldVolts = this.#measure();
    }
    return this.#heldVolts;
  }

  snapshot() {
    return { distanceCm: this.#distanceCm, volts: this.volts };
  }

  #measure(): number {
    const random = this.#board.random;
    if (random() < WRONG_MEASUREMENT_CHANCE) return sharpVolts(10 + random() * 70);
    return Math.max(0, sharpVolts(this.#distanceCm) + gaussian(random, MEASUREMENT_SIGMA_VOLTS));
  }

  /** What one ADC conversion sees: the held output, or now and then the dip or overshoot of an LED pulse. */
  #sample(): number {
    const volts = this.volts;
    const random = this.#board.random;
    if (random() >= PULSE_SPIKE_CHANCE) return volts;
    const spike = 0.08 + random() * 0.32;
    return Math.max(0, volts + (random() < 0.5 ? -spike : spike));
  }
}

registerPartKind({
  type: "ir-gp2y0a21",
  summary: "Sharp GP2Y0A21YK0F analog distance sensor (10–80 cm)",
  check: (spec) => (typeof spec.pin === "number" ? [] : ['"pin" must be the GPIO number of the sensor\'s Vo wire (an ADC1 pin, 32–39)']),
  pins: (spec) => [{ pin: spec.pin as number, use: "analog", role: "Vo" }],
  create: (spec, board) => new IrGp2y0a21(spec.id, board, { pin: spec.pin as number }),
});
