import type { Part, VirtualBoard } from "../board.ts";
import { registerPartKind } from "../description.ts";
import { gaussian } from "../random.ts";

/** A new measurement every 38.3 ± 9.6 ms (datasheet); the output holds between them. */
const UPDATE_MS = 38.3;
/** Below about 7 cm the curve folds back: one voltage, two distances. */
const PEAK_CM = 7;

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
 * A Sharp GP2Y0A21YK0F distance sensor on an analog pin: sample-and-hold every ~38 ms, a little output noise.
 * The ADC's own noise is added by the board.
 */
export class IrGp2y0a21 implements Part {
  readonly id: string;
  readonly type = "ir-gp2y0a21";
  readonly pin: number;
  readonly #board: VirtualBoard;
  #distanceCm = 40;
  #heldVolts: number;
  #heldAt: number;

  constructor(id: string, board: VirtualBoard, options: { pin: number }) {
    this.id = id;
    this.#board = board;
    this.pin = options.pin;
    this.#heldAt = board.clock.now();
    this.#heldVolts = sharpVolts(this.#distanceCm);
    board.provideAnalog(this.pin, id, () => this.volts);
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
    if (now - this.#heldAt >= UPDATE_MS) {
      this.#heldAt += Math.floor((now - this.#heldAt) / UPDATE_MS) * UPDATE_MS;
      this.#heldVolts = Math.max(0, sharpVolts(this.#distanceCm) + gaussian(this.#board.random, 0.01));
    }
    return this.#heldVolts;
  }

  snapshot() {
    return { distanceCm: this.#distanceCm, volts: this.volts };
  }
}

registerPartKind({
  type: "ir-gp2y0a21",
  summary: "Sharp GP2Y0A21YK0F analog distance sensor (10–80 cm)",
  check: (spec) => (typeof spec.pin === "number" ? [] : ['"pin" must be the GPIO number of the sensor\'s Vo wire (an ADC1 pin, 32–39)']),
  pins: (spec) => [{ pin: spec.pin as number, use: "analog", role: "Vo" }],
  create: (spec, board) => new IrGp2y0a21(spec.id, board, { pin: spec.pin as number }),
});
