import type { VirtualClock } from "../platform/virtual-clock.ts";
import type { Quiescence } from "./quiescence.ts";

/** How a scenario's steps spend time: `wait`, key presses and `within` limits all go through this. */
export interface ScenarioTime {
  readonly virtual: boolean;
  /** Milliseconds on the scenario's clock. */
  now(): number;
  /** Lets `ms` pass: the device runs meanwhile. */
  advance(ms: number): Promise<void>;
  /** Returns once the device has handled everything so far (before a step looks at the board). */
  settle(): Promise<void>;
}

/** The scenario's virtual clock: time moves only between quiescent moments of the device (see Quiescence). */
export function virtualTime(clock: VirtualClock, quiescence: Quiescence): ScenarioTime {
  const settle = () => quiescence.settled();
  return {
    virtual: true,
    now: () => clock.now(),
    advance: (ms) => clock.advance(ms, { settle }),
    settle,
  };
}

/**
 * The laptop's own time, for watching a run live and for engines with their own timers (Moddable's runtime): steps
 * sleep, and limits are wall-clock, so they are generous enough for a loaded machine.
 */
export function realTime(idle: () => Promise<void>): ScenarioTime {
  const started = performance.now();
  return {
    virtual: false,
    now: () => performance.now() - started,
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    settle: idle,
  };
}
