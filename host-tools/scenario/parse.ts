import { LineCounter, parseDocument, isAlias, isMap, isScalar, isSeq, visit, type Node, type Scalar } from "yaml";
import { UsageError } from "../../firmware/core/errors.ts";
import type { FlatConfig } from "../../firmware/apps/config.ts";

/**
 * A scenario file: YAML that drives the virtual board and checks what it does, like a student or an examiner would.
 *
 *   name: Assignment 2 — the password opens the way
 *   app: assignment2                # optional: the firmware app to run
 *   config: { ir_kind: distance }   # optional: more settings
 *   steps:
 *     - expect: { lcd: "Password" }            # the LCD shows this text (on any line) within 5 s
 *     - press: "1234#"                         # taps these keys, one after another
 *     - set: { distance: 25 }                  # the Sharp sensor sees 25 cm (also: obstacle: true|false)
 *     - expect: { servo: 45, tolerance: 3, within: 10s }
 *     - expect: { servo: 45, tolerance: 3, for: 5s }   # ...and stays there for 5 s (also lcd, db): no twitching
 *     - expect: { db: /readings/Device001, exists: true }
 *     - expect: { db: /devices/Device001/angle, equals: 45 }
 *     - expect: { mqtt: sensor/Device001, contains: '"seq"' }
 *     - publish: { topic: cmd/Device001/servo, payload: "90" }   # the server side sends a message (QoS 1)
 *     - expect: { serial: "signed in" }
 *     - expect: { diagnostic: "lost" }          # the board reported this (a scenario that tests a fault)
 *     - wait: 2s
 *     - reset: true                             # EN pressed: the firmware restarts, the parts stay powered
 *     - reset: mid-byte                         # the same, between the two nibbles of an LCD byte
 *   allow_errors: ["lcd"]           # optional: board errors of these parts, or containing these texts, fail no step
 *   points: 10                      # optional: what the scenario is worth; each expect's `points` (default 1) weighs it
 *
 * A board error (a lost LCD instruction, a short circuit, a servo on the wrong PWM) fails the step it happened in,
 * unless allow_errors names it; warnings are shown with the step.
 */
export type Step =
  | { kind: "press"; keys: string[]; line: number }
  | { kind: "set"; distanceCm?: number; obstacle?: boolean; line: number }
  | { kind: "wait"; ms: number; line: number }
  | { kind: "reset"; midByte: boolean; line: number }
  | { kind: "publish"; topic: string; payload: string; retain: boolean; line: number }
  | { kind: "expect-lcd"; points: number; text: string; row?: number; withinMs: number; forMs?: number; line: number }
  | { kind: "expect-servo"; points: number; angle: number; tolerance: number; withinMs: number; forMs?: number; line: number }
  | { kind: "expect-db"; points: number; path: string; exists?: boolean; equals?: unknown; withinMs: number; forMs?: number; line: number }
  | { kind: "expect-mqtt"; points: number; topic: string; contains?: string; withinMs: number; line: number }
  | { kind: "expect-serial"; points: number; text: string; withinMs: number; line: number }
  | { kind: "expect-diagnostic"; points: number; text: string; withinMs: number; line: number };

export interface Scenario {
  name: string;
  file: string;
  config: FlatConfig;
  steps: Step[];
  /** Board errors of these parts, or containing these texts, are expected (a scenario about a fault): they fail no step. */
  allowErrors: string[];
  /** What the whole scenario is worth; its checks share it by their points. Undefined: the sum of their points. */
  points: number | undefined;
}

export class ScenarioError extends UsageError {}

const DEFAULT_WITHIN_MS = 5000;
const KEYS = new Set("123A456B789C*0#D".split(""));
/** A scenario is written by hand (the shipped ones are under 2 KB; 16 KB holds some 400 steps). The YAML library
 * takes up to 5 µs a byte on hostile text, seconds for megabytes. */
export const MAX_SCENARIO_BYTES = 16 * 1024;

/**
 * Parses a scenario file. Every problem, the YAML library's own included (an alias without its anchor, aliases that
 * expand without bound, nesting too deep to parse), is a ScenarioError naming the file and, where there is one, the line.
 */
export function parseScenario(text: string, file: string): Scenario {
  const fail = (line: number, message: string): never => {
    throw new ScenarioError("SCENARIO", `${file}${line ? ` line ${line}` : ""}: ${message}`);
  };
  if (text.length > MAX_SCENARIO_BYTES) {
    fail(0, `it is ${Math.ceil(text.length / 1024)} KB; a scenario may be at most ${MAX_SCENARIO_BYTES / 1024} KB — split it into several files`);
  }
  try {
    return read(text, file, fail);
  } catch (error) {
    if (error instanceof ScenarioError) throw error;
    return fail(0, `could not read it as YAML (${error instanceof Error ? error.message : String(error)})`);
  }
}

function read(text: string, file: string, fail: (line: number, message: string) => never): Scenario {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (node: Node | null | undefined) => (node?.range ? lines.linePos(node.range[0]).line : 0);
  if (document.errors.length) {
    const error = document.errors[0]!;
    const message = /call stack/i.test(error.message) ? "it nests too deeply to read" : error.message.split("\n")[0];
    fail(error.linePos?.[0].line ?? (error.pos ? lines.linePos(error.pos[0]).line : 0), `not valid YAML: ${message}`);
  }
  const root = document.contents;
  if (!isMap(root)) return fail(1, "a scenario is a YAML mapping with name, steps and optionally app and config");
  // Aliases are checked in document order (the order YAML resolves them in) before any value is built.
  const anchors = new Set<string>();
  let firstAlias: Node | undefined;
  visit(document, {
    Node(_key, node) {
      if (isAlias(node)) {
        firstAlias ??= node;
        if (!anchors.has(node.source)) fail(lineOf(node), `*${node.source} refers to no anchor: write &${node.source} on a value before it`);
      } else if (node.anchor) {
        anchors.add(node.anchor);
      }
    },
  });
  for (const pair of root.items) {
    const key = pair.key as Node | null;
    if (!isScalar(key)) fail(lineOf(key), "keys are plain words: name, app, config, steps, allow_errors");
    const name = String((key as Scalar).value);
    if (!["name", "app", "config", "steps", "allow_errors", "points"].includes(name)) fail(lineOf(key), `unknown key "${name}" (use name, app, config, steps, allow_errors, points)`);
  }
  let data: Record<string, unknown>;
  try {
    data = document.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return fail(lineOf(firstAlias), /alias count/i.test(message) ? "its aliases expand to too many copies; write the steps out instead" : `could not read it as YAML (${message})`);
  }
  const config: FlatConfig = {};
  if (data.config !== undefined) {
    if (!data.config || typeof data.config !== "object" || Array.isArray(data.config)) fail(lineOf(root.get("config", true) as Node), "config must be a mapping of setting: value");
    for (const [key, value] of Object.entries(data.config as object)) {
      if (!["string", "number", "boolean"].includes(typeof value)) fail(lineOf(root.get("config", true) as Node), `config.${key} must be a string, number or boolean`);
      config[key] = value as string;
    }
  }
  if (data.app !== undefined) config.app = String(data.app);
  const stepsNode = root.get("steps", true);
  if (!isSeq(stepsNode) || stepsNode.items.length === 0 || !Array.isArray(data.steps)) return fail(lineOf(stepsNode as Node), "steps must be a list with at least one step");
  const values = data.steps as unknown[];
  const steps = (stepsNode.items as Node[]).map((node, i) => parseStep(values[i], lineOf(node), fail));
  const allowErrors = data.allow_errors ?? [];
  if (!Array.isArray(allowErrors) || allowErrors.some((text) => typeof text !== "string" || text === "")) {
    fail(lineOf(root.get("allow_errors", true) as Node), 'allow_errors is a list of part names or texts, e.g. ["lcd"]: board errors of those parts, or containing those texts, fail no step');
  }
  const points = data.points;
  if (points !== undefined && (typeof points !== "number" || !(points >= 0) || !Number.isFinite(points))) fail(lineOf(root.get("points", true) as Node), "points is a number ≥ 0: what the scenario is worth, shared by its checks");
  return { name: String(data.name ?? file), file, config, steps, allowErrors: allowErrors as string[], points: points as number | undefined };
}

function parseStep(item: unknown, line: number, fail: (line: number, message: string) => never): Step {
  const step = item as Record<string, unknown>;
  if (!step || typeof step !== "object" || Array.isArray(step) || Object.keys(step).length !== 1) {
    fail(line, "each step is one of: press, set, wait, reset, publish, expect");
  }
  const [kind, value] = Object.entries(step)[0]!;
  switch (kind) {
    case "press": {
      const keys = [...String(value)];
      const bad = keys.find((key) => !KEYS.has(key));
      if (bad !== undefined || keys.length === 0) fail(line, `press takes keypad keys 0–9, A–D, * and #, got "${String(value)}"`);
      return { kind: "press", keys, line };
    }
    case "set": {
      const setting = value as Record<string, unknown>;
      if (!setting || typeof setting !== "object") fail(line, "set takes { distance: <cm> } and/or { obstacle: true|false }");
      const distance = setting.distance;
      const obstacle = setting.obstacle;
      if (distance !== undefined && (typeof distance !== "number" || distance < 0 || distance > 500)) fail(line, "set distance is in centimetres, 0–500");
      if (obstacle !== undefined && typeof obstacle !== "boolean") fail(line, "set obstacle is true or false");
      if (distance === undefined && obstacle === undefined) fail(line, "set takes distance and/or obstacle");
      for (const key of Object.keys(setting)) if (key !== "distance" && key !== "obstacle") fail(line, `set has no "${key}" (use distance, obstacle)`);
      return { kind: "set", distanceCm: distance as number | undefined, obstacle: obstacle as boolean | undefined, line };
    }
    case "wait":
      return { kind: "wait", ms: duration(value, line, fail), line };
    case "reset":
      if (value !== true && value !== "mid-byte") {
        fail(line, "reset takes true or mid-byte: `- reset: true` restarts the firmware as the EN button does (the parts stay powered); mid-byte also leaves the LCD half-way through a byte");
      }
      return { kind: "reset", midByte: value === "mid-byte", line };
    case "publish": {
      const spec = value as Record<string, unknown>;
      if (!spec || typeof spec !== "object" || Array.isArray(spec)) fail(line, 'publish takes { topic: cmd/Device001/servo, payload: "90" }');
      for (const key of Object.keys(spec)) if (!["topic", "payload", "retain"].includes(key)) fail(line, `publish has no "${key}" (use topic, payload, retain)`);
      const topic = spec.topic;
      if (typeof topic !== "string" || topic === "" || /[+#]/.test(topic)) fail(line, "publish topic is a topic name without + or # wildcards");
      if (spec.payload === undefined || typeof spec.payload === "object") fail(line, "publish payload is a string (quote JSON: '{\"angle\": 90}')");
      if (spec.retain !== undefined && typeof spec.retain !== "boolean") fail(line, "publish retain is true or false");
      return { kind: "publish", topic: topic as string, payload: String(spec.payload), retain: spec.retain === true, line };
    }
    case "expect":
      return parseExpect(value, line, fail);
    default:
      return fail(line, `unknown step "${kind}" (use press, set, wait, reset, publish, expect)`);
  }
}

function parseExpect(value: unknown, line: number, fail: (line: number, message: string) => never): Step {
  if (!value || typeof value !== "object") fail(line, "expect takes a mapping, e.g. { lcd: \"Password\" }");
  const spec = value as Record<string, unknown>;
  const withinMs = spec.within === undefined ? DEFAULT_WITHIN_MS : duration(spec.within, line, fail);
  const points = spec.points ?? 1;
  if (typeof points !== "number" || !(points >= 0) || !Number.isFinite(points)) fail(line, "expect points is a number ≥ 0 (this check's weight in the score; 1 unless given)");
  const allow = (...keys: string[]) => {
    for (const key of Object.keys(spec)) if (!keys.includes(key) && key !== "within" && key !== "points") fail(line, `expect has no "${key}" here (use ${keys.join(", ")}, within, points)`);
  };
  // `for`: a state that must then keep holding (LCD, servo, database); events (MQTT, serial, diagnostics) have none
  const forMs = spec.for === undefined ? undefined : duration(spec.for, line, fail);
  if ("lcd" in spec) {
    allow("lcd", "line", "for");
    const row = spec.line;
    if (row !== undefined && row !== 1 && row !== 2) fail(line, "expect lcd line is 1 or 2");
    return { kind: "expect-lcd", points: points as number, text: String(spec.lcd), row: row === undefined ? undefined : (row as number) - 1, withinMs, forMs, line };
  }
  if ("servo" in spec) {
    allow("servo", "tolerance", "for");
    if (typeof spec.servo !== "number" || spec.servo < 0 || spec.servo > 180) fail(line, "expect servo is an angle in degrees, 0–180");
    const tolerance = spec.tolerance ?? 2;
    if (typeof tolerance !== "number" || tolerance < 0) fail(line, "expect tolerance is degrees, ≥ 0");
    return { kind: "expect-servo", points: points as number, angle: spec.servo as number, tolerance: tolerance as number, withinMs, forMs, line };
  }
  if ("db" in spec) {
    allow("db", "exists", "equals", "for");
    const path = String(spec.db);
    if (!path.startsWith("/")) fail(line, `expect db takes a database path starting with "/", got "${path}"`);
    if (spec.exists !== undefined && typeof spec.exists !== "boolean") fail(line, "expect exists is true or false");
    return { kind: "expect-db", points: points as number, path, exists: spec.exists as boolean | undefined, equals: spec.equals, withinMs, forMs, line };
  }
  if ("mqtt" in spec) {
    allow("mqtt", "contains");
    return { kind: "expect-mqtt", points: points as number, topic: String(spec.mqtt), contains: spec.contains === undefined ? undefined : String(spec.contains), withinMs, line };
  }
  if ("serial" in spec) {
    allow("serial");
    return { kind: "expect-serial", points: points as number, text: String(spec.serial), withinMs, line };
  }
  if ("diagnostic" in spec) {
    allow("diagnostic");
    return { kind: "expect-diagnostic", points: points as number, text: String(spec.diagnostic), withinMs, line };
  }
  return fail(line, "expect needs one of lcd, servo, db, mqtt, serial, diagnostic");
}

function duration(value: unknown, line: number, fail: (line: number, message: string) => never): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(String(value).trim());
  if (!match) return fail(line, `"${String(value)}" is not a duration (write 500ms, 2s or 1m)`);
  const amount = Number(match[1]);
  return match[2] === "ms" ? amount : match[2] === "m" ? amount * 60_000 : amount * 1000;
}
