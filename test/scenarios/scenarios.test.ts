import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runScenarioFile } from "../../host-tools/scenario/session.ts";

const dir = import.meta.dirname;
const files = fs.readdirSync(dir).filter((name) => name.endsWith(".yaml")).sort();

/** Every shipped scenario is an acceptance test, on Node and inside the XS engine the device runs. */
describe.each(["node", "xs"] as const)("shipped scenarios on the %s engine", (engine) => {
  it.each(files)("%s passes", async (name) => {
    const { result } = await runScenarioFile(path.join(dir, name), { engine });
    const failure = result.results.find((step) => !step.ok);
    expect(failure ? `line ${failure.step.line}: ${failure.message}` : "passed").toBe("passed");
  }, 60_000);
});
