import type { Clock, TimerHandle } from "../../firmware/ports/clock.ts";

interface Timer {
  id: number;
  due: number;
  period: number | undefined;
  callback: () => void;
}

/**
 * Time that moves only when a test says so. `advance(ms)` runs every timer due in that span in order, letting
 * promise callbacks settle between them, so timing logic (debounce, backoff, keepalive, LCD busy periods) is tested
 * without sleeping. `delay` (a blocking hardware wait) moves time forward at once without running timers, as on the
 * device, where nothing else runs while the CPU waits.
 */
export class VirtualClock implements Clock {
  #now = 0;
  #epochAtZero: number | undefined;
  #nextId = 1;
  #timers: Timer[] = [];

  constructor(options: { epochMs?: number } = {}) {
    this.#epochAtZero = options.epochMs;
  }

  now(): number {
    return this.#now;
  }
  epochMs(): number | undefined {
    return this.#epochAtZero === undefined ? undefined : this.#epochAtZero + this.#now;
  }
  /** Sets the wall clock, as SNTP does on the device. */
  setEpoch(epochMs: number): void {
    this.#epochAtZero = epochMs - this.#now;
  }
  delay(ms: number): void {
    if (ms > 0) this.#now += ms;
  }
  setTimeout(callback: () => void, ms: number): TimerHandle {
    return this.#add(callback, ms, undefined);
  }
  setInterval(callback: () => void, ms: number): TimerHandle {
    return this.#add(callback, ms, Math.max(ms, 0.001));
  }
  clear(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    const id = (handle as { id: number }).id;
    this.#timers = this.#timers.filter((timer) => timer.id !== id);
  }
  /** How many timers are waiting. */
  get pending(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward by `ms`, running due timers in order and settling after each: by default letting promise
   * callbacks run; a scenario passes its own `settle`, which also waits for the engine and the network (quiescence.ts).
   */
  async advance(ms: number, options: { settle?: () => Promise<void> } = {}): Promise<void> {
    const settleNow = options.settle ?? settle;
    const until = this.#now + ms;
    await settleNow();
    for (;;) {
      const next = this.#nextDue();
      if (!next || next.due > until) break;
      this.#now = Math.max(this.#now, next.due);
      if (next.period === undefined) this.#timers = this.#timers.filter((timer) => timer !== next);
      else next.due += next.period;
      next.callback();
      await settleNow();
    }
    this.#now = Math.max(this.#now, until);
    await settleNow();
  }

  /** Advances in steps until `condition` holds or `limitMs` passes; returns whether it held. */
  async advanceUntil(condition: () => boolean, limitMs: number, stepMs = 1): Promise<boolean> {
    const until = this.#now + limitMs;
    while (!condition()) {
      if (this.#now >= until) return false;
      await this.advance(Math.min(stepMs, until - this.#now));
    }
    return true;
  }

  #add(callback: () => void, ms: number, period: number | undefined): TimerHandle {
    const timer: Timer = { id: this.#nextId++, due: this.#now + Math.max(0, ms), period, callback };
    this.#timers.push(timer);
    return { id: timer.id };
  }

  #nextDue(): Timer | undefined {
    let best: Timer | undefined;
    for (const timer of this.#timers) if (!best || timer.due < best.due) best = timer;
    return best;
  }
}

/** Lets queued promise callbacks run (several turns, for chains of awaits). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
