import type { TimerHandle } from "../../firmware/ports/clock.ts";
import { SystemClock } from "../../host-tools/platform/system-clock.ts";

/**
 * The laptop's clock for one benchmark board, with the board's loop timer placed and watched: an interval of exactly
 * `loopMs` (Assignment 2's reading_interval_ms) first fires at the next instant that is `phaseMs` past a multiple of
 * `loopMs` on the wall clock, so boards in different processes keep the phases the benchmark gave them (all 0: the
 * aligned worst case), and each firing is reported to `onLoopTick` before the firmware's callback runs. Every other
 * timer (the keypad's 10 ms scan) is the system clock's.
 *
 * A blocking wait (`delay`: the LCD's command times) moves this board's clock on without holding the process: on
 * its own ESP32 it would hold only that board, but here it would hold every board the process runs.
 */
export class PhasedClock extends SystemClock {
  readonly #loopMs: number;
  readonly #phaseMs: number;
  readonly #onLoopTick: () => void;
  #waited = 0;

  constructor(loopMs: number, phaseMs: number, onLoopTick: () => void) {
    super();
    this.#loopMs = loopMs;
    this.#phaseMs = phaseMs;
    this.#onLoopTick = onLoopTick;
  }

  override now(): number {
    return super.now() + this.#waited;
  }

  override delay(ms: number): void {
    this.#waited += ms;
  }

  override setInterval(callback: () => void, ms: number): TimerHandle {
    if (ms !== this.#loopMs) return super.setInterval(callback, ms);
    const handle: { timer?: NodeJS.Timeout } = {};
    const tick = () => {
      this.#onLoopTick();
      callback();
    };
    const wait = (((this.#phaseMs - Date.now()) % ms) + ms) % ms;
    handle.timer = setTimeout(() => {
      handle.timer = setInterval(tick, ms);
      tick();
    }, wait);
    return handle;
  }

  override clear(handle: TimerHandle | undefined): void {
    if (handle !== undefined && "timer" in handle) clearTimeout((handle as { timer?: NodeJS.Timeout }).timer);
    else super.clear(handle);
  }
}
