import { beforeAll, describe, expect, it } from "vitest";
import { buildModdableFirmware } from "../../host-tools/moddable/moddable-engine.ts";
import { FIRMWARE_NEEDS } from "../../host-tools/moddable/memory-budget.ts";
import { VirtualDevice } from "../../host-tools/runtime/virtual-device.ts";
import { moddable } from "../support/moddable.ts";
import { until } from "../support/until.ts";

const lines = (device: VirtualDevice) => device.serial.lines.map((line) => line.text);

describe.skipIf(!moddable)("the firmware on Moddable's own runtime for Linux, bridged to the virtual board", () => {
  beforeAll(async () => {
    await buildModdableFirmware(); // the first build compiles Moddable's XS engine (about a minute); later ones reuse it
  }, 300_000);

  it("measures the running VM: the stack's deepest point, and the slots alive after a full collection", async () => {
    const device = new VirtualDevice({ config: { app: "board-check" }, engine: "moddable" });
    try {
      await device.start();
      await until(() => lines(device).some((line) => line.includes("IR clear")), "the board check to start", 20_000);
      const memory = await device.moddableMemory();
      expect(memory.stackSlots).toBe(768); // manifest.json's creation.stack
      expect(memory.stackPeakSlots).toBeGreaterThan(50); // the measurement sees the app's calls
      expect(memory.stackPeakSlots).toBeLessThanOrEqual(FIRMWARE_NEEDS.stackSlots);
      expect(memory.heapSlots).toBeLessThanOrEqual(FIRMWARE_NEEDS.bootHeapSlots);
    } finally {
      await device.stop();
    }
  }, 60_000);

  it("shows a fatal error at boot as the device would: the VM aborts with the firmware's message", async () => {
    const device = new VirtualDevice({ config: { app: "no-such-app" }, engine: "moddable" });
    try {
      await device.start();
      await until(() => lines(device).some((line) => line.startsWith("# xs abort")), "the VM to abort", 20_000);
      expect(lines(device).find((line) => line.startsWith("# xs abort"))).toMatch(/unhandled exception: .*app "no-such-app" does not exist — set app to one of: .*board-check/);
    } finally {
      await device.stop();
    }
  }, 60_000);
});
