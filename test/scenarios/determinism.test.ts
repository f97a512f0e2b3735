import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildFirmwareBundle } from "../../host-tools/build/firmware-bundle.ts";
import { scenarioFingerprint } from "../../host-tools/scenario/fingerprint.ts";
import { runScenarioFile } from "../../host-tools/scenario/session.ts";
import { saturateCores } from "../support/cpu-load.ts";

const dir = import.meta.dirname;
const files = fs.readdirSync(dir).filter((name) => name.endsWith(".yaml")).sort();

/**
 * Virtual time: every shipped scenario gives the same steps, outcomes, messages and step times (to the microsecond
 * of virtual time) run alone and run twice with every core saturated by busy loops, on Node and inside XS.
 * bench/scenario-speed.ts does 20 runs of each.
 */
describe.each(["node", "xs"] as const)("shipped scenarios under CPU load on the %s engine", (engine) => {
  let bundleFile: string | undefined;
  beforeAll(async () => {
    if (engine === "xs") bundleFile = await buildFirmwareBundle("xs");
  }, 120_000);

  it.each(files)("%s: identical results alone and with every core busy", async (name) => {
    const run = async () => scenarioFingerprint((await runScenarioFile(path.join(dir, name), { engine, bundleFile })).result);
    const alone = await run();
    expect(alone.filter((line) => !/^line \d+ ok /.test(line))).toEqual([]);
    const load = saturateCores();
    try {
      expect(await run()).toEqual(alone);
      expect(await run()).toEqual(alone);
    } finally {
      await load.stop();
    }
  }, 120_000);
});
