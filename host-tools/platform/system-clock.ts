import type { Clock, TimerHandle } from "../../firmware/ports/clock.ts";

/** The laptop's real clock. `delay` busy-waits, as `Timer.delay` blocks on the device. */
export class SystemClock implements Clock {
  readonly #start = performance.now();
  now(): number {
    return performance.now() - this.#start;
  }
  epochMs(): number {
    return Date.now();
  }
  delay(ms: number): void {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      // busy wait: a blocking hardware delay
    }
  }
  setTimeout(callback: () => void, ms: number): TimerHandle {
    return setTimeout(callback, ms);
  }
  setInterval(callback: () => void, ms: number): TimerHandle {
    return setInterval(callback, ms);
  }
  clear(handle: TimerHandle | undefined): void {
    if (handle !== undefined) clearTimeout(handle as NodeJS.Timeout);
  }
}
