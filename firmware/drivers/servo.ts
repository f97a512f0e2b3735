import { UsageError } from "../core/errors.ts";
import type { PWMConstructor, PWMInstance } from "../ports/io.ts";

export interface ServoOptions {
  io: PWMConstructor;
  pin: number;
  /** Pulse width for 0° and for 180° (calibration; SG90s vary: 500–2500, 544–2400, 1000–2000 µs). */
  minUs?: number;
  maxUs?: number;
  hz?: number;
}

/** Frame rates analog hobby servos follow (50 Hz nominal). */
const MIN_HZ = 40;
const MAX_HZ = 330;

/** A hobby servo on a 50 Hz PWM output, addressed in degrees or in microseconds of pulse. */
export class Servo {
  readonly minUs: number;
  readonly maxUs: number;
  readonly #pwm: PWMInstance;
  readonly #periodUs: number;
  #degrees: number | undefined;

  constructor(options: ServoOptions) {
    this.minUs = options.minUs ?? 500;
    this.maxUs = options.maxUs ?? 2500;
    if (!(this.minUs > 0 && this.maxUs > this.minUs && this.maxUs < 3000)) {
      throw new UsageError("SERVO_CALIBRATION", `servo on GPIO${options.pin}: calibration needs 0 < minUs < maxUs < 3000 µs, got ${this.minUs}–${this.maxUs} — use your servo's measured range (SG90: 500–2500)`);
    }
    const hz = options.hz ?? 50;
    if (!(hz >= MIN_HZ && hz <= MAX_HZ)) {
      throw new UsageError("SERVO_HZ", `servo on GPIO${options.pin}: ${hz} Hz is a frame rate a servo cannot use — use hz: 50 (analog servos take ${MIN_HZ}–${MAX_HZ} Hz)`);
    }
    this.#periodUs = 1_000_000 / hz;
    try {
      // 14 bits at 50 Hz: 1.2 µs steps, finer than the servo's dead band (10 bits would be 20 µs steps).
      this.#pwm = new options.io({ pin: options.pin, hz, resolution: 14 });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new UsageError("SERVO_PIN", `servo signal on GPIO${options.pin} cannot be opened: ${reason}`, { cause: error });
    }
  }

  /** Turns to `angle` degrees (0–180). Outside that range it throws rather than drive the servo into its stop. */
  writeDegrees(angle: number): void {
    if (typeof angle !== "number" || !Number.isFinite(angle) || angle < 0 || angle > 180) {
      throw new UsageError("SERVO_ANGLE", `servo angle must be 0–180°, got ${angle} — clamp or map your value first`);
    }
    this.#degrees = angle;
    this.writeMicroseconds(this.minUs + ((this.maxUs - this.minUs) * angle) / 180);
  }

  /** Sends pulses of `us` microseconds, clamped to the calibration range. */
  writeMicroseconds(us: number): void {
    const clamped = Math.min(this.maxUs, Math.max(this.minUs, us));
    const max = 2 ** this.#pwm.resolution - 1;
    this.#pwm.write(Math.round((clamped / this.#periodUs) * max));
  }

  /** The last angle written, if any. */
  get degrees(): number | undefined {
    return this.#degrees;
  }

  close(): void {
    this.#pwm.close();
  }
}
