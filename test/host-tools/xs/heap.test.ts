import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../../host-tools/platform/virtual-clock.ts";
import { VirtualDevice } from "../../../host-tools/runtime/virtual-device.ts";

describe("the firmware in XS over many cycles", () => {
  it("keeps a flat heap: timers, pin reads and LCD writes across the bridge leave nothing behind", async () => {
    const clock = new VirtualClock();
    const device = new VirtualDevice({ config: { app: "board-check" }, engine: "xs", clock });
    await device.start();
    try {
      await clock.advance(1000);
      await device.idle();
      const before = (await device.collectGarbage()).currentHeapCount;
      for (let i = 0; i < 20; i++) {
        await clock.advance(250);
        await device.idle();
      }
      const after = (await device.collectGarbage()).currentHeapCount;
      expect(after - before).toBe(0);
      expect(device.board.part<{ lines: string[] } & import("../../../host-tools/board/index.ts").Part>("lcd").lines[0]).toBe("IR clear        ");
    } finally {
      await device.stop();
    }
  }, 60_000);
});
