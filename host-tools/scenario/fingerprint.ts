import type { ScenarioResult } from "./run.ts";

/** A Firebase push id: 8 characters of time, then 12 random ones (72 bits), as Firebase makes them. */
const PUSH_ID = /-[0-9A-Za-z_-]{19}(?![0-9A-Za-z_-])/g;

/**
 * What must repeat from one run of a scenario to the next under virtual time: each step's line, outcome, duration on
 * the scenario's clock and message. Push ids are the one thing random by design; their random part is masked.
 */
export function scenarioFingerprint(result: ScenarioResult): string[] {
  return result.results.map((step) => `line ${step.step.line} ${step.ok ? "ok" : "FAILED"} ${step.ms.toFixed(3)} ms: ${step.message.replace(PUSH_ID, (id) => `${id.slice(0, 8)}…`)}`);
}
