import type { Part, PwmSignal, VirtualBoard } from "../board.ts";
import { registerPartKind } from "../description.ts";

/** SG90 figures: 0.1 s per 60° at 4.8 V, ~5 µs dead band, analog servos take 40–330 Hz frames (50 Hz nominal). */
const DEGREES_PER_MS = 60 / 100;
const DEAD_BAND_US = 5;
const MIN_HZ = 40;
const MAX_HZ = 330;

/**
 * A hobby servo on a PWM pin. The angle follows the pulse width (calibration `minUs`→0°, `maxUs`→180°), at the
 * servo's own speed; pulses beyond the calibration drive it into its end stop, where it stalls (reported); a frame
 * rate it cannot use is reported with the fix.
 */
export class ServoSG90 implements Part {
  readonly id: string;
  readonly type = "servo-sg90";
  readonly pin: number;
  readonly minUs: number;
  readonly maxUs: number;
  readonly #board: VirtualBoard;
  #from = 90;
  #target = 90;
  #since = 0;
  #pulseUs: number | undefined;
  #hz: number | undefined;
  #stalled = false;
  #powered = false;

  constructor(id: string, board: VirtualBoard, options: { pin: number; minUs?: number; maxUs?: number }) {
    this.id = id;
    this.#board = board;
    this.pin = options.pin;
    this.minUs = options.minUs ?? 500;
    this.maxUs = options.maxUs ?? 2500;
    board.listenPwm(this.pin, (signal) => this.#onSignal(signal));
  }

  /** The shaft's angle now, in degrees. */
  get angle(): number {
    const elapsed = this.#board.clock.now() - this.#since;
    const distance = this.#target - this.#from;
    const travelled = Math.min(Math.abs(distance), elapsed * DEGREES_PER_MS);
    return this.#from + Math.sign(distance) * travelled;
  }

  snapshot() {
    const angle = this.angle;
    return {
      angle,
      target: this.#target,
      moving: this.#powered && Math.abs(angle - this.#target) > 0.01,
      stalled: this.#stalled,
      pulseUs: this.#pulseUs,
      hz: this.#hz,
      powered: this.#powered,
    };
  }

  #onSignal(signal: PwmSignal | undefined): void {
    const angleNow = this.angle;
    if (!signal || signal.duty === 0) {
      // No pulses: the servo stops driving and stays where it is.
      this.#from = this.#target = angleNow;
      this.#since = this.#board.clock.now();
      this.#powered = false;
      this.#pulseUs = undefined;
      return;
    }
    this.#powered = true;
    if (this.#hz !== signal.hz && (signal.hz < MIN_HZ || signal.hz > MAX_HZ)) {
      this.#board.diagnostics.reportOnce(
        this.id,
        "error",
        `the servo on GPIO${this.pin} gets ${signal.hz} Hz PWM; it needs 50 Hz frames (${MIN_HZ}–${MAX_HZ} Hz) — open the PWM with hz: 50`,
      );
    }
    this.#hz = signal.hz;
    const frameMs = 1000 / signal.hz;
    if (signal.hz < MIN_HZ || signal.hz > MAX_HZ || signal.highUs > frameMs * 1000 * 0.5) {
      this.#pulseUs = signal.highUs;
      return; // not a servo signal: the servo twitches but does not follow
    }
    if (this.#pulseUs !== undefined && Math.abs(signal.highUs - this.#pulseUs) < DEAD_BAND_US) return;
    this.#pulseUs = signal.highUs;
    const commanded = ((signal.highUs - this.minUs) / (this.maxUs - this.minUs)) * 180;
    this.#stalled = commanded < -1 || commanded > 181;
    if (this.#stalled) {
      this.#board.diagnostics.report(
        this.id,
        "warning",
        `the servo on GPIO${this.pin} got a ${signal.highUs.toFixed(0)} µs pulse, beyond its ${this.minUs}–${this.maxUs} µs range: it stalls against its end stop (drawing stall current) — keep pulses within the calibration`,
      );
    }
    this.#from = angleNow;
    this.#target = Math.min(180, Math.max(0, commanded));
    this.#since = this.#board.clock.now();
  }
}

registerPartKind({
  type: "servo-sg90",
  summary: "SG90-class hobby servo on a PWM pin",
  check(spec) {
    const problems: string[] = [];
    if (typeof spec.pin !== "number") problems.push('"pin" must be the GPIO number of the signal wire');
    const min = spec.minUs ?? 500;
    const max = spec.maxUs ?? 2500;
    if (typeof min !== "number" || typeof max !== "number" || min < 300 || max > 3000 || min >= max) {
      problems.push('"minUs" and "maxUs" must be pulse widths with 300 ≤ minUs < maxUs ≤ 3000');
    }
    return problems;
  },
  pins: (spec) => [{ pin: spec.pin as number, use: "pwm", role: "signal" }],
  create: (spec, board) =>
    new ServoSG90(spec.id, board, { pin: spec.pin as number, minUs: spec.minUs as number | undefined, maxUs: spec.maxUs as number | undefined }),
});
