import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildModdableFirmware, type ModdableMemory } from "../../host-tools/moddable/moddable-engine.ts";
import { FIRMWARE_NEEDS } from "../../host-tools/moddable/memory-budget.ts";
import { runScenarioFile } from "../../host-tools/scenario/session.ts";
import { moddable } from "../support/moddable.ts";

const dir = import.meta.dirname;
const files = fs.readdirSync(dir).filter((name) => name.endsWith(".yaml")).sort();

/**
 * Every shipped scenario on Moddable's own runtime for Linux — the device's linker, preloading, frozen built-ins,
 * stack limit, Timer, Preference and sockets — and within the memory the device build allows, measured in the VM.
 */
describe.skipIf(!moddable)("shipped scenarios on Moddable's runtime (--engine moddable)", () => {
  beforeAll(async () => {
    await buildModdableFirmware(); // the first build compiles Moddable's XS engine for Linux; later ones reuse it
  }, 300_000);

  it.each(files)("%s passes, within the firmware's stack and memory budget", async (name) => {
    let memory: ModdableMemory | undefined;
    // What the firmware keeps is its live set once it is idle: a request still in flight when the steps end (more
    // likely on a loaded machine) holds buffers for a moment, so of a few samples a little apart (each after a full
    // collection) the smallest counts. The stack peak is the deepest point since the first sample, whichever it is.
    const settled = async (device: { moddableMemory(): Promise<ModdableMemory> }) => {
      for (let sample = 0; sample < 5; sample++) {
        const now = await device.moddableMemory();
        if (!memory || now.heapSlots < memory.heapSlots) memory = now;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    const { result } = await runScenarioFile(path.join(dir, name), { engine: "moddable", afterSteps: settled });
    const failure = result.results.find((step) => !step.ok);
    expect(failure ? `line ${failure.step.line}: ${failure.message}` : "passed").toBe("passed");
    expect(memory!.stackPeakSlots).toBeLessThanOrEqual(FIRMWARE_NEEDS.stackSlots);
    expect(memory!.heapSlots).toBeLessThanOrEqual(FIRMWARE_NEEDS.bootHeapSlots);
    expect(memory!.chunkBytes).toBeLessThanOrEqual(FIRMWARE_NEEDS.bootChunkBytes);
  }, 90_000);
});
