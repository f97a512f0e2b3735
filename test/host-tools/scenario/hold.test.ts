/**
 * `for` on a check: the state must keep holding, looked at every 25 ms of scenario time. It is what catches a driver
 * that acts on single readings of the Sharp sensor: the parts model gives an unfiltered read the part's LED-pulse
 * spikes and its odd wrong measurement, so a servo that follows raw readings twitches while the shipped driver's does not.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { esplabProject } from "../../../host-tools/project/project.ts";
import { parseScenario, ScenarioError } from "../../../host-tools/scenario/parse.ts";
import { runScenarioFile } from "../../../host-tools/scenario/session.ts";
import { copyFirmware } from "../../support/firmware-copy.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-scenario-hold-"));
const tree = copyFirmware();
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  tree.remove();
});

// The board-check app's servo follows the Sharp sensor: 45 cm is 90°.
const STEADY = `name: the servo holds still while nothing moves
app: board-check
config: { ir_kind: distance }
steps:
  - set: { distance: 45 }
  - expect: { servo: 90, tolerance: 6, within: 3s, for: 20s }
`;

describe("for: a check that must keep holding", () => {
  it("is a duration on lcd, servo and db checks, and nothing else", () => {
    const steps = parseScenario('name: n\nsteps:\n  - expect: { lcd: "ok", for: 2s }\n  - expect: { servo: 90, for: 500ms }\n  - expect: { db: /a, exists: true, for: 1m }\n', "a.yaml").steps;
    expect(steps.map((step) => ("forMs" in step ? step.forMs : undefined))).toEqual([2000, 500, 60_000]);
    expect(() => parseScenario('name: n\nsteps:\n  - expect: { serial: "x", for: 2s }\n', "a.yaml")).toThrow(ScenarioError);
    expect(() => parseScenario('name: n\nsteps:\n  - expect: { serial: "x", for: 2s }\n', "a.yaml")).toThrow(/line 3: expect has no "for" here \(use serial, within, points\)/);
    expect(() => parseScenario('name: n\nsteps:\n  - expect: { lcd: "x", for: soon }\n', "a.yaml")).toThrow(/line 3: "soon" is not a duration/);
  });

  it.each(["node", "xs"] as const)("passes a servo that stays, and takes that long in scenario time (%s engine)", async (engine) => {
    const file = path.join(dir, `steady-${engine}.yaml`);
    fs.writeFileSync(file, STEADY);
    const { result } = await runScenarioFile(file, { engine });
    expect(result.results.map((step) => step.message.split("\n")[0])).toEqual(["set distance 45 cm", expect.stringMatching(/^servo at (8[4-9]|9[0-6])\.\d°, for 20 s$/)]);
    expect(result.results[1]!.ms).toBeGreaterThanOrEqual(20_000);
    expect(result.passed).toBe(true);
  }, 120_000);

  it("fails a servo that follows unfiltered readings, naming when it left and where it went", async () => {
    tree.edit("apps/board-devices.ts", (text) => text.replace("pin: wiring.distancePin, clock }", "pin: wiring.distancePin, clock, samples: 1, window: 1 }"));
    const file = path.join(dir, "twitchy.yaml");
    fs.writeFileSync(file, STEADY);
    // XS runs the bundle built from the edited copy (Node would import esplab's own modules, already loaded)
    const { result } = await runScenarioFile(file, { engine: "xs", project: esplabProject(tree.root) });
    expect(result.passed).toBe(false);
    expect(result.results[1]!.message).toMatch(/^expected the servo at 90° ± 6° for 20 s; it held [\d.]+ m?s, then it is at \d+\.\d°/);
  }, 120_000);
});
