import { isDeepStrictEqual } from "node:util";
import type { Diagnostic } from "../board/diagnostics.ts";
import type { VirtualDevice } from "../runtime/virtual-device.ts";
import type { Scenario, Step } from "./parse.ts";
import { describeDiagnostic } from "./report.ts";
import { realTime, type ScenarioTime } from "./scenario-time.ts";

/** What a scenario can look at besides the board: the local cloud. */
export interface ScenarioWorld {
  device: VirtualDevice;
  /** The scenario's time (virtual, or the laptop's when absent). */
  time?: ScenarioTime;
  /** Reads a database path as an administrator (undefined when the scenario has no database). */
  readDatabase?(path: string): Promise<unknown>;
  /** Messages the broker has seen, oldest first. */
  mqttMessages?(): { topic: string; payload: string }[];
  /** Publishes through the broker, as the server side would. */
  mqttPublish?(topic: string, payload: string, retain: boolean): Promise<void>;
}

export interface StepResult {
  step: Step;
  ok: boolean;
  /** How long the step took on the scenario's clock (virtual milliseconds, unless the run is in real time). */
  ms: number;
  message: string;
  /** What the board reported while the step ran (warnings and errors; for the first step, since power-on). */
  diagnostics: Diagnostic[];
  /** For a failed step: every part's state at that moment (the LCD's lines, the servo's angle…), by part id. */
  board?: Record<string, unknown>;
}

export interface ScenarioResult {
  passed: boolean;
  /** The steps that ran, in order (all of them with `continue`, else up to the first failure). */
  results: StepResult[];
  /** Points earned by the checks that passed, out of `points` (see Scenario.points). */
  score: number;
  points: number;
}

export interface RunOptions {
  onStep?: (result: StepResult) => void;
  /** Run every step even after one fails (for partial credit); otherwise stop at the first failure. */
  continue?: boolean;
}

/** The score: each check's points, scaled so that they add up to the scenario's own points when it has them. */
export function scoreOf(scenario: Scenario, results: StepResult[]): { score: number; points: number } {
  const weight = (step: Step) => ("points" in step ? step.points : 0);
  const total = scenario.steps.reduce((sum, step) => sum + weight(step), 0);
  const earned = results.filter((result) => result.ok).reduce((sum, result) => sum + weight(result.step), 0);
  const points = scenario.points ?? total;
  return { points, score: total === 0 ? (results.every((result) => result.ok) && results.length === scenario.steps.length ? points : 0) : (earned / total) * points };
}

const POLL_MS = 25;
const KEY_HOLD_MS = 120;
const KEY_GAP_MS = 120;

interface LcdView {
  lines?: string[];
}
interface ServoView {
  angle?: number;
  stalled?: boolean;
}

/** How many earlier diagnostics a failing step shows as its explanation. */
const EXPLAIN_LIMIT = 5;

/**
 * Runs the steps in order against a started device; stops at the first failing step unless told to continue. A board error while a step runs
 * fails that step (unless the scenario allows it); a failing step's message ends with the diagnostics that explain it.
 */
export async function runScenario(scenario: Scenario, world: ScenarioWorld, options: RunOptions = {}): Promise<ScenarioResult> {
  const results: StepResult[] = [];
  const time = world.time ?? realTime(() => world.device.idle());
  const board = world.device.board.diagnostics;
  const allowed = (entry: Diagnostic) => scenario.allowErrors.some((text) => entry.part === text || entry.message.includes(text));
  let seen = 0;
  for (const step of scenario.steps) {
    let started = time.now();
    let outcome: { ok: boolean; message: string };
    try {
      // What the device still had under way (an answer arriving, a blocking LCD wait in XS) belongs before this step,
      // so that the step's time starts at the same point of the firmware's work in every run.
      await time.settle();
      started = time.now();
      outcome = await runStep(step, world, time);
    } catch (error) {
      outcome = { ok: false, message: (error as Error).message };
    }
    const fresh = board.entries.slice(seen).filter((entry) => entry.severity !== "info");
    seen = board.entries.length;
    const errors = fresh.filter((entry) => entry.severity === "error" && !allowed(entry));
    if (outcome.ok && errors.length) {
      outcome = { ok: false, message: `the board reported ${errors.length === 1 ? "an error" : `${errors.length} errors`} during this step (${outcome.message})` };
    }
    if (!outcome.ok) {
      const explaining = board.entries.filter((entry) => entry.severity !== "info").slice(-EXPLAIN_LIMIT);
      if (explaining.length) outcome.message += `\n  board diagnostics:\n${explaining.map((entry) => `      ${describeDiagnostic(entry)}`).join("\n")}`;
    }
    const result: StepResult = { step, ...outcome, ms: time.now() - started, diagnostics: fresh };
    if (!result.ok) result.board = Object.fromEntries(world.device.board.parts.map((part) => [part.id, part.snapshot()]));
    results.push(result);
    options.onStep?.(result);
    if (!result.ok && !options.continue) break;
  }
  const passed = results.length === scenario.steps.length && results.every((result) => result.ok);
  return { passed, results, ...scoreOf(scenario, results) };
}

async function runStep(step: Step, world: ScenarioWorld, time: ScenarioTime): Promise<{ ok: boolean; message: string }> {
  const { device } = world;
  const parts = (type: string) => device.board.parts.filter((part) => part.type === type);
  switch (step.kind) {
    case "press": {
      const keypad = parts("keypad-4x4")[0] as unknown as { press(k: string): void; release(k: string): void } | undefined;
      if (!keypad) return { ok: false, message: "the board has no keypad" };
      for (const key of step.keys) {
        keypad.press(key);
        await time.advance(KEY_HOLD_MS);
        keypad.release(key);
        await time.advance(KEY_GAP_MS);
      }
      return { ok: true, message: `pressed ${step.keys.join("")}` };
    }
    case "set": {
      if (step.distanceCm !== undefined) {
        for (const part of [...parts("ir-gp2y0a21"), ...parts("ir-obstacle")]) {
          (part as unknown as { setDistanceCm(cm: number): void }).setDistanceCm(step.distanceCm);
        }
      }
      if (step.obstacle !== undefined) {
        for (const part of parts("ir-obstacle")) (part as unknown as { setObstacle(b: boolean): void }).setObstacle(step.obstacle);
      }
      return { ok: true, message: `set ${step.distanceCm !== undefined ? `distance ${step.distanceCm} cm ` : ""}${step.obstacle !== undefined ? `obstacle ${step.obstacle}` : ""}`.trim() };
    }
    case "wait":
      await time.advance(step.ms);
      return { ok: true, message: `waited ${step.ms} ms` };
    case "reset":
      // The MCU restarts; the LCD keeps its power, its text and its 4-bit mode (maybe mid-byte), as on a real board
      // where EN resets only the ESP32: the driver's init must bring the controller back from whatever state it is in.
      // mid-byte: the reset came right after the first nibble of a byte reached the LCD
      if (step.midByte) for (const lcd of parts("lcd1602-i2c")) (lcd as unknown as { leaveHalfAByte(atMs: number): void }).leaveHalfAByte(device.board.clock.now());
      await device.restart();
      await time.settle();
      return { ok: true, message: `reset the ESP32${step.midByte ? " between the two nibbles of an LCD byte" : ""} (the parts stayed powered)` };
    case "publish": {
      if (!world.mqttPublish) return { ok: false, message: "this scenario run has no MQTT broker (start it with the local cloud)" };
      await world.mqttPublish(step.topic, step.payload, step.retain);
      await time.settle();
      return { ok: true, message: `published ${step.topic} ${step.payload.slice(0, 100)}` };
    }
    case "expect-lcd": {
      const lcd = () => (parts("lcd1602-i2c")[0]?.snapshot() as LcdView | undefined)?.lines ?? [];
      const where = step.row === undefined ? "" : ` on line ${step.row + 1}`;
      return expectState(time, step, async () => {
        const lines = lcd();
        return {
          ok: step.row === undefined ? lines.some((line) => line.includes(step.text)) : (lines[step.row] ?? "").includes(step.text),
          holds: `LCD shows "${step.text}"${where}`,
          expected: `the LCD to show "${step.text}"${where}`,
          actual: `it shows:\n${lines.map((l) => `      |${l}|`).join("\n")}`,
        };
      });
    }
    case "expect-servo":
      return expectState(time, step, async () => {
        const servo = parts("servo-sg90")[0]?.snapshot() as ServoView | undefined;
        const angle = servo?.angle;
        return {
          ok: typeof angle === "number" && Math.abs(angle - step.angle) <= step.tolerance,
          holds: `servo at ${typeof angle === "number" ? angle.toFixed(1) : "?"}°`,
          expected: `the servo at ${step.angle}° ± ${step.tolerance}°`,
          actual: `it is at ${typeof angle === "number" ? `${angle.toFixed(1)}°` : "no angle (no signal)"}${servo?.stalled ? ", stalled at its end stop" : ""}`,
        };
      });
    case "expect-db": {
      const read = world.readDatabase;
      if (!read) return { ok: false, message: "this scenario run has no database (start it with the local cloud)" };
      return expectState(time, step, async () => {
        const value = await read(step.path);
        const exists = value !== null && value !== undefined;
        let ok = true;
        if (step.exists !== undefined) ok &&= exists === step.exists;
        if (step.equals !== undefined) ok &&= isDeepStrictEqual(value, step.equals);
        if (step.exists === undefined && step.equals === undefined) ok = exists;
        const shown = JSON.stringify(value)?.slice(0, 300) ?? "null";
        return {
          ok,
          holds: `database ${step.path} = ${shown}`,
          expected: `database ${step.path} ${step.equals !== undefined ? `to equal ${JSON.stringify(step.equals)}` : step.exists === false ? "to be empty" : "to exist"}`,
          actual: `it holds ${shown}`,
        };
      });
    }
    case "expect-mqtt": {
      const messages = world.mqttMessages;
      if (!messages) return { ok: false, message: "this scenario run has no MQTT broker (start it with the local cloud)" };
      return poll(time, step.withinMs, () => {
        const seen = messages().filter((m) => topicMatches(step.topic, m.topic));
        const match = seen.find((m) => step.contains === undefined || m.payload.includes(step.contains));
        return {
          ok: !!match,
          message: match
            ? `MQTT ${match.topic} ${match.payload.slice(0, 200)}`
            : `expected an MQTT message on ${step.topic}${step.contains ? ` containing ${step.contains}` : ""} within ${seconds(step.withinMs)}; ` +
              (seen.length ? `last on that topic: ${seen.at(-1)!.payload.slice(0, 200)}` : "none arrived on that topic"),
        };
      });
    }
    case "expect-diagnostic":
      return poll(time, step.withinMs, () => {
        const found = device.board.diagnostics.entries.find((entry) => entry.message.includes(step.text));
        const last = device.board.diagnostics.entries.slice(-3).map((entry) => `      ${describeDiagnostic(entry)}`).join("\n");
        return {
          ok: !!found,
          message: found ? `board: ${found.message}` : `expected the board to report "${step.text}" within ${seconds(step.withinMs)}; ${last ? `its last reports:\n${last}` : "it reported nothing"}`,
        };
      });
    case "expect-serial":
      return poll(time, step.withinMs, () => {
        const found = device.serial.find(step.text);
        const tail = device.serial.lines.slice(-5).map((l) => `      ${l.text}`).join("\n");
        return {
          ok: found.length > 0,
          message: found.length ? `serial: ${found[0]!.text}` : `expected "${step.text}" on the serial console within ${seconds(step.withinMs)}; last lines:\n${tail}`,
        };
      });
  }
}

/** A look at the board or the cloud for a check on a state: whether it holds, and how to say either way. */
interface Observation {
  ok: boolean;
  /** Said when it holds: `servo at 90.4°`. */
  holds: string;
  /** What was expected: `the servo at 90° ± 6°`. */
  expected: string;
  /** What there is instead: `it is at 71.0°`. */
  actual: string;
}

/**
 * A check on a state: it must hold within `withinMs`, and then, with `for`, keep holding that long — looked at every
 * POLL_MS of the scenario's time, so a flicker (a servo twitching on one bad reading) fails it.
 */
async function expectState(time: ScenarioTime, step: { withinMs: number; forMs?: number }, observe: () => Promise<Observation>) {
  const reached = await pollAsync(time, step.withinMs, async () => {
    const seen = await observe();
    return { ok: seen.ok, message: seen.ok ? seen.holds : `expected ${seen.expected} within ${seconds(step.withinMs)}; ${seen.actual}` };
  });
  if (!reached.ok || !step.forMs) return reached;
  const from = time.now();
  for (;;) {
    const left = from + step.forMs - time.now();
    if (left <= 0) return { ok: true, message: `${reached.message}, for ${seconds(step.forMs)}` };
    await time.advance(Math.min(POLL_MS, left));
    await time.settle();
    const now = await observe();
    if (!now.ok) {
      return { ok: false, message: `expected ${now.expected} for ${seconds(step.forMs)}; it held ${seconds(Math.round(time.now() - from))}, then ${now.actual}` };
    }
  }
}

async function poll(time: ScenarioTime, withinMs: number, check: () => { ok: boolean; message: string }) {
  return pollAsync(time, withinMs, async () => check());
}

/** Looks every POLL_MS of the scenario's time until the check holds or `withinMs` has passed. */
async function pollAsync(time: ScenarioTime, withinMs: number, check: () => Promise<{ ok: boolean; message: string }>) {
  const deadline = time.now() + withinMs;
  for (;;) {
    await time.settle();
    const outcome = await check();
    const left = deadline - time.now();
    if (outcome.ok || left <= 0) return outcome;
    await time.advance(Math.min(POLL_MS, left));
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** MQTT filter matching (+ one level, # the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length || (f[i] !== "+" && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}
