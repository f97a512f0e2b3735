/**
 * Time, the only way firmware learns or waits for it. On the device it is Moddable's `Timer`; on the laptop either the
 * real clock or a virtual one that tests advance by hand.
 */
export type TimerHandle = { readonly __timer: unique symbol } | object;

export interface Clock {
  /** Monotonic milliseconds since start; may be fractional. */
  now(): number;
  /** Milliseconds since the Unix epoch once the clock is set (SNTP on the device); undefined before. */
  epochMs(): number | undefined;
  /** Blocks for a short hardware timing (a few ms at most): the LCD's clear, a sensor's conversion. */
  delay(ms: number): void;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  setInterval(callback: () => void, ms: number): TimerHandle;
  clear(handle: TimerHandle | undefined): void;
}

/** Resolves after `ms` on the given clock. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimeout(resolve, ms);
  });
}
