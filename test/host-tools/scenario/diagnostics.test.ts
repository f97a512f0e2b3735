/**
 * Board diagnostics are scenario results: a driver bug the parts model catches fails the step it happened in and
 * names its cause, on the Node engine and inside XS alike. The bug here is the classic one — an LCD driver that does
 * not wait for the controller (15 ms after power-on, 1.52 ms after clear display) — made by a clock whose delay() returns
 * at once; the I2C bus still takes its time per byte, as a real one does.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ScenarioError, parseScenario } from "../../../host-tools/scenario/parse.ts";
import { runScenarioFile } from "../../../host-tools/scenario/session.ts";
import { VirtualClock } from "../../../host-tools/platform/virtual-clock.ts";

/** The scenario's virtual clock with the bug: blocking delays do not wait. */
class ClockWithoutDelays extends VirtualClock {
  override delay(): void {}
}

const shipped = path.resolve(import.meta.dirname, "../../scenarios");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-scenario-diagnostics-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.each(["node", "xs"] as const)("board diagnostics in scenarios (%s engine)", (engine) => {
  it("an LCD driver that does not wait fails the scenario, and the failure names the lost instruction", async () => {
    const { result } = await runScenarioFile(path.join(shipped, "board-check.yaml"), { engine, clock: new ClockWithoutDelays() });
    expect(result.passed).toBe(false);
    const failure = result.results.find((step) => !step.ok)!;
    expect(failure.message).toMatch(/board diagnostics:/);
    // the 15 ms after power-on or a clear display's 1.52 ms: with no delays, only the bus's own time passes between them
    expect(failure.message).toMatch(/error lcd @[\d.]+ s: .*arrived [\d.]+ ms after .*(before the controller is ready \(15 ms\)|which needs [\d.]+ ms: lost)/);
  }, 60_000);

  it("a scenario about the fault allows the error and expects it", async () => {
    const file = path.join(dir, `expects-lost-${engine}.yaml`);
    fs.writeFileSync(file, 'name: the LCD loses instructions sent too fast\napp: board-check\nallow_errors: ["lcd"]\nsteps:\n  - expect: { diagnostic: "arrived", within: 5s }\n');
    const { result } = await runScenarioFile(file, { engine, clock: new ClockWithoutDelays() });
    expect(result.results.map((step) => `${step.ok} ${step.message.split("\n")[0]}`)).toEqual([expect.stringMatching(/^true board: .*arrived [\d.]+ ms after/)]);
  }, 60_000);

  it("a reset between two nibbles of an LCD byte leaves the parts powered, and the firmware's LCD init recovers", async () => {
    const file = path.join(dir, `reset-${engine}.yaml`);
    fs.writeFileSync(file, 'name: reset mid-byte\napp: board-check\nsteps:\n  - press: "7"\n  - expect: { lcd: "key 7" }\n  - reset: mid-byte\n  - press: "8"\n  - expect: { lcd: "key 8" }\n');
    const { result } = await runScenarioFile(file, { engine });
    expect(result.results.map((step) => `${step.ok} ${step.message.split("\n")[0]}`)).toEqual([
      "true pressed 7",
      'true LCD shows "key 7"',
      "true reset the ESP32 between the two nibbles of an LCD byte (the parts stayed powered)",
      "true pressed 8",
      'true LCD shows "key 8"',
    ]);
  }, 60_000);
});

describe("allow_errors", () => {
  it("is a list of texts", () => {
    expect(parseScenario('name: n\nallow_errors: ["lost"]\nsteps:\n  - wait: 1ms\n', "a.yaml").allowErrors).toEqual(["lost"]);
    expect(() => parseScenario("name: n\nallow_errors: lost\nsteps:\n  - wait: 1ms\n", "a.yaml")).toThrow(ScenarioError);
    expect(() => parseScenario("name: n\nallow_errors: lost\nsteps:\n  - wait: 1ms\n", "a.yaml")).toThrow(/a.yaml line 2: allow_errors is a list of part names or texts/);
  });
});
