import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_SCENARIO_BYTES, parseScenario, ScenarioError } from "../../../host-tools/scenario/parse.ts";
import { topicMatches } from "../../../host-tools/scenario/run.ts";

describe("scenario files", () => {
  it("refuses a file too big to be a hand-written scenario before the YAML library spends seconds on it", () => {
    const step = '  - expect: { lcd: "IR clear", within: 5s }\n';
    const big = `name: big\napp: board-check\nsteps:\n${step.repeat(Math.ceil(MAX_SCENARIO_BYTES / step.length))}`;
    expect(() => parseScenario(big, "big.yaml")).toThrow(ScenarioError);
    expect(() => parseScenario(big, "big.yaml")).toThrow(/big\.yaml: it is 17 KB; a scenario may be at most 16 KB — split it/);
    expect(parseScenario(big.slice(0, MAX_SCENARIO_BYTES - 200).replace(/\n[^\n]*$/, "\n"), "fits.yaml").steps.length).toBeGreaterThan(300);
  });

  it("reads every kind of step with its line number and defaults", () => {
    const scenario = parseScenario(
      [
        "name: demo",
        "app: assignment2",
        "config: { ir_kind: distance }",
        "steps:",
        '  - expect: { lcd: "Password" }',
        '  - press: "12#"',
        "  - set: { distance: 25, obstacle: true }",
        "  - expect: { lcd: 25 cm, line: 2, within: 10s }",
        "  - expect: { servo: 45 }",
        "  - expect: { db: /readings/Device001, exists: true }",
        "  - expect: { db: /devices/Device001/angle, equals: 45 }",
        "  - expect: { mqtt: sensor/+, contains: '\"seq\"' }",
        "  - expect: { serial: signed in, within: 1500ms }",
        "  - wait: 2s",
        "  - publish: { topic: cmd/Device001/servo, payload: '{\"angle\": 90}' }",
        "  - publish: { topic: cmd/Device001/lcd, payload: 42, retain: true }",
      ].join("\n"),
      "demo.yaml",
    );
    expect(scenario.name).toBe("demo");
    expect(scenario.config).toEqual({ ir_kind: "distance", app: "assignment2" });
    expect(scenario.steps).toEqual([
      { kind: "expect-lcd", points: 1, text: "Password", row: undefined, withinMs: 5000, line: 5 },
      { kind: "press", keys: ["1", "2", "#"], line: 6 },
      { kind: "set", distanceCm: 25, obstacle: true, line: 7 },
      { kind: "expect-lcd", points: 1, text: "25 cm", row: 1, withinMs: 10_000, line: 8 },
      { kind: "expect-servo", points: 1, angle: 45, tolerance: 2, withinMs: 5000, line: 9 },
      { kind: "expect-db", points: 1, path: "/readings/Device001", exists: true, equals: undefined, withinMs: 5000, line: 10 },
      { kind: "expect-db", points: 1, path: "/devices/Device001/angle", exists: undefined, equals: 45, withinMs: 5000, line: 11 },
      { kind: "expect-mqtt", points: 1, topic: "sensor/+", contains: '"seq"', withinMs: 5000, line: 12 },
      { kind: "expect-serial", points: 1, text: "signed in", withinMs: 1500, line: 13 },
      { kind: "wait", ms: 2000, line: 14 },
      { kind: "publish", topic: "cmd/Device001/servo", payload: '{"angle": 90}', retain: false, line: 15 },
      { kind: "publish", topic: "cmd/Device001/lcd", payload: "42", retain: true, line: 16 },
    ]);
  });

  it.each([
    ["steps:\n  - press: 12X", /line 2: press takes keypad keys/],
    ["steps:\n  - jump: 3", /line 2: unknown step "jump"/],
    ["steps:\n  - expect: { lcd: hi, points: -1 }", /line 2: expect points is a number ≥ 0/],
    ["points: lots\nsteps:\n  - wait: 1s", /line 1: points is a number ≥ 0/],
    ["steps:\n  - publish: { topic: cmd/+/servo, payload: 1 }", /line 2: publish topic is a topic name without \+ or #/],
    ["steps:\n  - publish: { topic: cmd/a, payload: { angle: 1 } }", /publish payload is a string/],
    ["steps:\n  - publish: { topic: cmd/a, payload: 1, qos: 2 }", /publish has no "qos"/],
    ["steps:\n  - expect: { lcd: hi, colour: red }", /line 2: expect has no "colour"/],
    ["steps:\n  - expect: { servo: 200 }", /line 2: expect servo is an angle in degrees, 0–180/],
    ["steps:\n  - expect: { db: readings }", /starting with "\/"/],
    ["steps:\n  - wait: soon", /line 2: "soon" is not a duration/],
    ["steps:\n  - set: { speed: 3 }", /set takes distance and\/or obstacle|set has no "speed"/],
    ["name: x", /steps must be a list/],
    ["steps: [", /not valid YAML/],
    ["colour: red\nsteps:\n  - wait: 1s", /line 1: unknown key "colour"/],
  ])("explains %j", (text, message) => {
    expect(() => parseScenario(text, "bad.yaml")).toThrow(message);
  });

  it("never fails on any text with anything but a ScenarioError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        try {
          parseScenario(text, "random.yaml");
        } catch (error) {
          if (!(error instanceof ScenarioError)) throw error;
        }
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ["an alias with no anchor (the reported case)", "name: n\nsteps: [*a]\n", /^bad\.yaml line 2: \*a refers to no anchor: write &a on a value before it$/],
    ["an alias with no anchor in a step", "name: n\nsteps:\n  - press: *keys\n  - wait: 1s\n", /^bad\.yaml line 3: \*keys refers to no anchor/],
    ["a merge key with no anchor", "<<: *base\nsteps: [{ wait: 1s }]\n", /^bad\.yaml line 1: \*base refers to no anchor/],
    [
      "aliases that expand without bound",
      "name: &a [x, x, x, x, x, x, x, x, x, x]\napp: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nconfig: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nsteps: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
      /^bad\.yaml line 2: its aliases expand to too many copies; write the steps out instead$/,
    ],
    ["nesting 7,000 deep", "steps: " + "[".repeat(7_000) + "]".repeat(7_000), /^bad\.yaml line 1: not valid YAML: it nests too deeply to read$/],
    ["a key that is a list", "? [a]\n: 1\nsteps: [{ wait: 1s }]\n", /^bad\.yaml line 1: keys are plain words/],
    ["a tag its value does not fit", "steps:\n  - wait: !!timestamp 1s\n", /^bad\.yaml line 2: not valid YAML: !!timestamp expects a date/],
  ])("turns the YAML library's own failures into a ScenarioError with file and line: %s", (_label, text, message) => {
    let caught: unknown;
    try {
      parseScenario(text, "bad.yaml");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ScenarioError);
    expect((caught as ScenarioError).message).toMatch(message);
  });

  it("takes anchors and aliases that resolve, in steps too", () => {
    const scenario = parseScenario("name: n\nsteps:\n  - press: &code 12#\n  - press: *code\n", "ok.yaml");
    expect(scenario.steps).toEqual([
      { kind: "press", keys: ["1", "2", "#"], line: 3 },
      { kind: "press", keys: ["1", "2", "#"], line: 4 },
    ]);
  });

  it("never fails on YAML-shaped text with anything but a ScenarioError naming the file (property)", () => {
    const token = fc.constantFrom(
      "name: n\n", "steps:\n", "  - ", "press: ", "wait: 1s", "expect: ", "{ lcd: x }", "*a", "&a ", "*b", "&b ", "[", "]", "{", "}", ", ",
      ": ", "? ", "<<: ", "!!binary ", "!!timestamp ", "!tag ", "|\n", ">\n", "'", '"', "#c\n", "---\n", "...\n", "%YAML 1.2\n", "\t", "\n", "  ", "12#", "null", "~",
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }), (tokens) => {
        try {
          parseScenario(tokens.join(""), "random.yaml");
        } catch (error) {
          expect(error).toBeInstanceOf(ScenarioError);
          expect((error as ScenarioError).message).toMatch(/^random\.yaml( line \d+)?: /);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("matches MQTT topic filters", () => {
    expect(topicMatches("sensor/#", "sensor/Device001")).toBe(true);
    expect(topicMatches("sensor/+", "sensor/Device001")).toBe(true);
    expect(topicMatches("sensor/+", "sensor/a/b")).toBe(false);
    expect(topicMatches("cmd/+/servo", "cmd/Device001/servo")).toBe(true);
    expect(topicMatches("sensor/Device001", "sensor/Device002")).toBe(false);
  });
});
