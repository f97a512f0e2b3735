import { UsageError } from "../core/errors.ts";
import type { Clock } from "../ports/clock.ts";
import type { DigitalConstructor, DigitalInstance } from "../ports/io.ts";

export interface IrObstacleOptions {
  io: DigitalConstructor;
  pin: number;
  clock: Clock;
  /** FC-51 modules pull OUT low on an obstacle; some batches are inverted (activeLow: false). */
  activeLow?: boolean;
  /** A change must hold this long before it counts (the comparator chatters at the edge of its range). */
  debounceMs?: number;
  onChange?: (obstacle: boolean) => void;
}

/** An FC-51 / TCRT5000 IR obstacle module on a digital input, debounced, with change events. */
export class IrObstacle {
  readonly #pin: DigitalInstance;
  readonly #clock: Clock;
  readonly #activeLow: boolean;
  readonly #debounceMs: number;
  readonly #onChange: ((obstacle: boolean) => void) | undefined;
  #stable: boolean;
  #pending: ReturnType<Clock["setTimeout"]> | undefined;

  constructor(options: IrObstacleOptions) {
    const { io, pin } = options;
    this.#clock = options.clock;
    this.#activeLow = options.activeLow ?? true;
    this.#debounceMs = options.debounceMs ?? 20;
    this.#onChange = options.onChange;
    // The module drives OUT itself (comparator with pull-up): a plain input, which GPIO34–39 can be.
    try {
      this.#pin = new io({
        pin,
        mode: io.Input,
        edge: io.Rising | io.Falling,
        onReadable: () => this.#edge(),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new UsageError("IR_PIN", `IR obstacle sensor OUT on GPIO${pin} cannot be opened: ${reason}`, { cause: error });
    }
    this.#stable = this.#raw();
  }

  /** Whether an obstacle is in front now (debounced). */
  get obstacle(): boolean {
    return this.#stable;
  }

  close(): void {
    this.#clock.clear(this.#pending);
    this.#pin.close();
  }

  #raw(): boolean {
    return (this.#pin.read() === 0) === this.#activeLow;
  }

  #edge(): void {
    this.#clock.clear(this.#pending);
    this.#pending = this.#clock.setTimeout(() => {
      const now = this.#raw();
      if (now === this.#stable) return;
      this.#stable = now;
      this.#onChange?.(now);
    }, this.#debounceMs);
  }
}
