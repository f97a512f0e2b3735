import Time from "time";
import Timer from "timer";
import type { Clock, TimerHandle } from "../../ports/clock.ts";

/** Jan 1 2020: before this the ESP32's RTC has not been set by SNTP. */
const CLOCK_SET_AFTER_MS = 1_577_836_800_000;

/** The Clock seam on Moddable: `Timer` for callbacks and blocking delays, `Time.ticks` for monotonic time. */
export const moddableClock: Clock = Object.freeze({
  now: () => Time.ticks,
  epochMs() {
    const now = Date.now();
    return now > CLOCK_SET_AFTER_MS ? now : undefined;
  },
  delay: (ms) => Timer.delay(Math.ceil(ms)),
  setTimeout: (callback, ms) => Timer.set(() => callback(), ms) as unknown as TimerHandle,
  setInterval: (callback, ms) => Timer.repeat(() => callback(), ms) as unknown as TimerHandle,
  clear(handle) {
    if (handle !== undefined) Timer.clear(handle as unknown as Parameters<typeof Timer.clear>[0]);
  },
});
