import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { FlashPlanError } from "../../../../host-tools/flash/image/plan.ts";
import { FlashWriteError, flashImages } from "../../../../host-tools/flash/operations/flash-images.ts";
import { ChipSimHarness, esp32Fixture, standardImages } from "../../../support/chip-sim.ts";

const harness = new ChipSimHarness();
afterEach(() => harness.close());

function expectOnChip(flash: { read(address: number, length: number): Uint8Array }, regions: { address: number; data: Uint8Array }[]) {
  for (const region of regions) expect(Buffer.from(flash.read(region.address, region.data.length)).equals(Buffer.from(region.data))).toBe(true);
}

describe("flashImages on the simulated ESP32", () => {
  it("flashes every fixture at 921600 baud, verifies, and skips them all on a re-run", async () => {
    const simulator = await harness.simulator();
    const images = standardImages();
    const first = await flashImages(await harness.session(simulator, { baud: 921600 }), images);
    expect(first.map((r) => r.skipped)).toEqual([false, false, false]);
    expect(first.every((r) => r.compressedSize > 0 && r.compressedSize < r.size)).toBe(true);
    expectOnChip(simulator.flash, images);

    await harness.close();
    const again = await harness.simulator({ flash: simulator.flash });
    const second = await flashImages(await harness.session(again, { baud: 921600 }), images);
    expect(second.map((r) => r.skipped)).toEqual([true, true, true]);
    expect(again.chip!.commandCounts.get("FLASH_DEFL_DATA")).toBeUndefined();
  });

  it("--erase-all erases everything first, then writes every region", async () => {
    const simulator = await harness.simulator();
    simulator.flash.erase(0x300000, 0x1000);
    simulator.flash.program(0x300000, Uint8Array.from([1, 2, 3]));
    const images = standardImages();
    const reports = await flashImages(await harness.session(simulator), images, { eraseAll: true });
    expect(reports.map((r) => r.skipped)).toEqual([false, false, false]);
    expect(Array.from(simulator.flash.read(0x300000, 3))).toEqual([0xff, 0xff, 0xff]);
    expectOnChip(simulator.flash, images);
  });

  it("rewrites only the region that changed", async () => {
    const simulator = await harness.simulator();
    const images = standardImages();
    await flashImages(await harness.session(simulator), images);
    const changed = images.map((image) => (image.name === "partition-table" ? { ...image, data: Uint8Array.from(image.data).fill(0xff, 64) } : image));
    await harness.close();
    const again = await harness.simulator({ flash: simulator.flash });
    const reports = await flashImages(await harness.session(again), changed);
    expect(reports.map((r) => r.skipped)).toEqual([true, false, true]);
    expectOnChip(again.flash, changed);
  });

  it("writes and reads back through dropped and corrupted bytes in both directions (seeded), across a baud change", async () => {
    for (const seed of [1, 2, 3]) {
      const simulator = await harness.simulator({ faults: { seed, dropRate: 0.000005, corruptRate: 0.000005 } });
      const data = new Uint8Array(randomBytes(256 * 1024));
      data[0] = 0; // random data starting 0xe9 would be checked (and refused) as an app image
      const images = [...standardImages(), { address: 0x100000, name: "one-mb", data }];
      const session = await harness.session(simulator, { baud: 460800 });
      const reports = await flashImages(session, images);
      expect(reports.every((r) => !r.skipped)).toBe(true);
      expectOnChip(simulator.flash, images);
      for (const image of images) expect(Buffer.from(await session.loader.readFlash(image.address, image.data.length)).equals(Buffer.from(image.data))).toBe(true);
      await harness.close();
    }
  });

  it("finishes through the ROM loader alone when the stub is turned off", async () => {
    const simulator = await harness.simulator({ faults: { seed: 7, corruptRate: 0.00005 } });
    const images = standardImages().slice(0, 2);
    await flashImages(await harness.session(simulator, { stub: false }), images);
    expect(simulator.chip!.mode).toBe("rom");
    expectOnChip(simulator.flash, images);
  });

  it("goes on with the ROM loader when the chip refuses the stub upload", async () => {
    const simulator = await harness.simulator({ refuseRamUpload: true });
    const session = await harness.session(simulator, { baud: 460800 });
    expect(session.loader.isStub).toBe(false);
    expect(harness.log.join("\n")).toMatch(/refused the flasher stub .*continuing with the ROM loader/);
    const images = standardImages().slice(0, 2);
    await flashImages(session, images);
    expectOnChip(simulator.flash, images);
  });

  it("falls back to a lower baud when the adapter garbles bytes above 460800", async () => {
    const simulator = await harness.simulator({ faults: { seed: 5, unreliableAbove: 460800, unreliableRate: 0.05 } });
    const session = await harness.session(simulator, { baud: 921600 });
    expect(session.baud).toBe(460800);
    expect(harness.log.join("\n")).toMatch(/unreliable at 921600/);
    const images = standardImages();
    await flashImages(session, images);
    expectOnChip(simulator.flash, images);
  });

  it("a disconnect mid-write is a clear error, and re-running the same command completes the job", async () => {
    const flashSim = await harness.simulator({ faults: { disconnectAfterBytes: 200_000 } });
    const images = standardImages();
    const error = await flashImages(await harness.session(flashSim), images).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlashWriteError);
    expect((error as Error).message).toMatch(/app at 0x10000 failed.*closed/s);
    expect((error as Error).message).toMatch(/run the same command again/);
    await harness.close();

    const rerun = await harness.simulator({ flash: flashSim.flash });
    const reports = await flashImages(await harness.session(rerun), images);
    expect(reports.map((r) => r.skipped)).toEqual([true, true, false]);
    expectOnChip(rerun.flash, images);
  });

  it("refuses, before writing anything, images for another chip, past the flash end, or overlapping", async () => {
    const simulator = await harness.simulator();
    const session = await harness.session(simulator);
    const bootloader = esp32Fixture("bootloader_esp32.bin");
    const plans = [
      [{ address: 0x10000, name: "s2-app", data: esp32Fixture("esp_idf_blink_esp32s2.bin") }],
      [{ address: 0x3f0000, name: "big", data: new Uint8Array(0x20000) }],
      [{ address: 0x1000, name: "bootloader", data: bootloader }, { address: 0x2000, name: "overlap", data: new Uint8Array(16) }],
    ];
    const messages: string[] = [];
    for (const plan of plans) {
      const error = await flashImages(session, plan).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FlashPlanError);
      messages.push((error as Error).message);
    }
    expect(messages[0]).toMatch(/ESP32-S2.*ESP32/);
    expect(messages[1]).toMatch(/past the 0x400000-byte flash/);
    expect(messages[2]).toMatch(/inside bootloader/);
    expect(simulator.chip!.commandCounts.get("FLASH_DEFL_BEGIN")).toBeUndefined();
    expect(simulator.flash.read(0, 0x400000).every((byte) => byte === 0xff)).toBe(true);
  });

  it("an app larger than its partition is refused with the partition named", async () => {
    const simulator = await harness.simulator();
    const [bootloader, table] = standardImages();
    const app = esp32Fixture("esp32-app-template.bin");
    const huge = new Uint8Array(0x110000);
    huge.set(app);
    const error = await flashImages(await harness.session(simulator), [bootloader!, table!, { address: 0x10000, name: "app", data: huge }]).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/do not fit partition "factory"/);
  });
});
