import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { EsplabError } from "../../../../firmware/core/errors.ts";
import { FlashPlanError } from "../../../../host-tools/flash/image/plan.ts";
import { FlashWriteError, flashImages, type FlashOptions } from "../../../../host-tools/flash/operations/flash-images.ts";
import type { CommandFault } from "../../../../host-tools/flash/sim/faults.ts";
import type { SimulatedFlash } from "../../../../host-tools/flash/sim/spi-flash.ts";
import { ChipSimHarness, standardImages } from "../../../support/chip-sim.ts";

const harness = new ChipSimHarness();
afterEach(() => harness.close());

type Region = { address: number; name: string; data: Uint8Array };

function holds(flash: SimulatedFlash, region: Region): boolean {
  return Buffer.from(flash.read(region.address, region.data.length)).equals(Buffer.from(region.data));
}

/** Random data that does not start like an app image (0xe9), which the plan would check as one. */
function random(length: number): Uint8Array {
  const data = new Uint8Array(randomBytes(length));
  data[0] = 0;
  return data;
}

/** Flashes `regions` through a chip that damages `commands`; returns the reports (or the error) and the flash. */
async function flashThrough(commands: CommandFault[], regions: Region[], options: { stub?: boolean } & FlashOptions = {}) {
  const simulator = await harness.simulator({ faults: { commands } });
  const session = await harness.session(simulator, { stub: options.stub });
  const repaired: string[] = [];
  const outcome = await flashImages(session, regions, { ...options, onRepair: (damaged) => repaired.push(...damaged.map((r) => r.name)) }).catch((error: unknown) => error);
  return { outcome, flash: simulator.flash, chip: simulator.chip!, repaired };
}

describe("success means the whole plan is on the chip, under targeted command faults", () => {
  it("an app write that a damaged BEGIN address lands on the bootloader and table: they are found and rewritten", async () => {
    const images = standardImages();
    // The third FLASH_DEFL_BEGIN is the app's: 0x10000 arrives as 0x0, so its first write covers 0x0..0x93000.
    const { outcome, flash, repaired } = await flashThrough([{ op: "FLASH_DEFL_BEGIN", field: "address", nth: 3, xor: 0x10000 }], images);
    expect(outcome).toBeInstanceOf(Array);
    expect(repaired).toEqual(["bootloader", "partition-table"]);
    for (const image of images) expect(holds(flash, image), image.name).toBe(true);
  });

  it("a damaged BEGIN length that makes the stub erase past the app: the region written before it is rewritten", async () => {
    const data = { address: 0xa8000, name: "data", data: random(0x1000) };
    const images = [data, ...standardImages()];
    // The app (fourth write) ends at 0xa2ed0; announced 1 MB longer, its last erase is the 64 KB block up to 0xb0000.
    const { outcome, flash, repaired } = await flashThrough([{ op: "FLASH_DEFL_BEGIN", field: "length", nth: 4, xor: 0x100000 }], images);
    expect(outcome).toBeInstanceOf(Array);
    expect(repaired).toEqual(["data"]);
    for (const image of images) expect(holds(flash, image), image.name).toBe(true);
  });

  it("through the ROM loader, a BEGIN length that erases the next region is caught the same way", async () => {
    const [, table, app] = standardImages();
    // App first, then the table, whose announced 4 KB becomes 68 KB: the ROM erases 0x8000..0x19000 before answering.
    const images = [app!, table!];
    const { outcome, flash, repaired, chip } = await flashThrough([{ op: "FLASH_DEFL_BEGIN", field: "length", nth: 2, xor: 0x10000 }], images, { stub: false });
    expect(chip.mode).toBe("rom");
    expect(outcome).toBeInstanceOf(Array);
    expect(repaired).toEqual([app!.name]);
    for (const image of images) expect(holds(flash, image), image.name).toBe(true);
  });

  it("a damaged sequence number (a block taken for a resend and dropped) ends in the right bytes, not a silent gap", async () => {
    const images = standardImages();
    const { outcome, flash } = await flashThrough([{ op: "FLASH_DEFL_DATA", field: "sequence", nth: 5, xor: 1 }], images);
    expect(outcome).toBeInstanceOf(Array);
    for (const image of images) expect(holds(flash, image), image.name).toBe(true);
  });

  it("a damaged block length, and a damaged MD5 address, end in the right bytes", async () => {
    for (const fault of [{ op: "FLASH_DEFL_DATA", field: "length", nth: 4, xor: 0x10 }, { op: "SPI_FLASH_MD5", field: "address", nth: 6, xor: 0x1000 }] as const) {
      const images = standardImages();
      const { outcome, flash } = await flashThrough([fault], images);
      expect(outcome, `${fault.op} ${fault.field}`).toBeInstanceOf(Array);
      for (const image of images) expect(holds(flash, image), image.name).toBe(true);
      await harness.close();
    }
  });

  it("when every rewrite lands on the other region, it fails, naming the region, after a bounded number of rounds", async () => {
    const x = { address: 0x10000, name: "x.bin", data: random(0x4000) };
    const y = { address: 0x20000, name: "y.bin", data: random(0x4000) };
    // 0x10000 ^ 0x30000 = 0x20000 and back: the first write of each repair lands on the other region.
    const onOther = (nth: number): CommandFault => ({ op: "FLASH_DEFL_BEGIN", field: "address", nth, xor: 0x30000 });
    const { outcome, chip } = await flashThrough([onOther(2), onOther(4), onOther(6)], [x, y]);
    expect(outcome).toBeInstanceOf(FlashWriteError);
    expect((outcome as Error).message).toMatch(/x\.bin at 0x10000 no longer held what was written, even after 2 rewrites/);
    expect((outcome as Error).message).toMatch(/not fully flashed.*run the same command again/s);
    expect(chip.commandCounts.get("FLASH_DEFL_BEGIN")).toBe(7);
  });

  it("no damaged field of any command ends in a reported success with the wrong flash", async () => {
    const fields: Array<[CommandFault["op"], CommandFault["field"]]> = [
      ["MEM_BEGIN", "address"], ["MEM_DATA", "sequence"], ["FLASH_DEFL_BEGIN", "address"], ["FLASH_DEFL_BEGIN", "length"],
      ["FLASH_DEFL_DATA", "sequence"], ["FLASH_DEFL_DATA", "length"], ["SPI_FLASH_MD5", "address"], ["SPI_FLASH_MD5", "length"],
    ];
    let successes = 0;
    for (const [op, field] of fields) {
      for (const nth of [1, 2, 3]) {
        const xor = field === "sequence" ? 0x1 : 0x10000;
        const what = `${op} ${field} #${nth} ^0x${xor.toString(16)}`;
        const images = standardImages();
        const simulator = await harness.simulator({ faults: { commands: [{ op, field, nth, xor }] } });
        const failure = await harness.session(simulator).then((session) => flashImages(session, images)).then(() => undefined, (error: Error) => error);
        if (failure === undefined) {
          successes++;
          for (const image of images) expect(holds(simulator.flash, image), `${what}: ${image.name}`).toBe(true);
        } else {
          // A failure is allowed if it says what happened and what to do next.
          expect(failure, what).toBeInstanceOf(EsplabError);
          expect(failure.message, what).toMatch(/run the same command again|run the command again/);
        }
        await harness.close();
      }
    }
    // Most damage is recovered from; the test would prove little if everything simply failed.
    expect(successes).toBeGreaterThan(12);
  });

  it("a final check that cannot run is an error, not a success", async () => {
    // MD5s 1–3 are the unchanged-checks, 4–6 each region's own check; the 7th (and its two resends) asks past the flash.
    const { outcome } = await flashThrough([{ op: "SPI_FLASH_MD5", field: "length", nth: 7, times: 3, xor: 0x1000000 }], standardImages());
    expect(outcome).toBeInstanceOf(FlashWriteError);
    expect((outcome as Error).message).toMatch(/checking bootloader at 0x01000 again afterwards failed.*not known to be on the chip; run the same command again/s);
  });

  it("a re-run where nothing changed writes nothing and checks nothing twice", async () => {
    const simulator = await harness.simulator();
    const images = standardImages();
    await flashImages(await harness.session(simulator), images);
    await harness.close();
    const again = await harness.simulator({ flash: simulator.flash });
    let verified = 0;
    await flashImages(await harness.session(again), images, { onPlanVerified: () => verified++ });
    expect(verified).toBe(0);
    expect(again.chip!.commandCounts.get("FLASH_DEFL_BEGIN")).toBeUndefined();
  });
});

describe("plans at the chip's erase granularity", () => {
  it("`0x9000 f 0x9100 f` is refused before anything is written, naming both regions and the sector", async () => {
    const simulator = await harness.simulator();
    const f = random(0x100);
    const error = await flashImages(await harness.session(simulator), [{ address: 0x9000, name: "f", data: f }, { address: 0x9100, name: "f", data: f }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlashPlanError);
    expect((error as Error).message).toMatch(/f: at 0x9100 shares the 4 KB erase sector 0x9000\.\.0xa000 with f at 0x9000\.\.0x9100/);
    expect(simulator.chip!.commandCounts.get("FLASH_DEFL_BEGIN")).toBeUndefined();
    expect(simulator.flash.read(0, simulator.flash.size).every((byte) => byte === 0xff)).toBe(true);
  });

  it("an unaligned region gets a warning naming the aligned address, and is written right through the stub and the ROM", async () => {
    for (const stub of [true, false]) {
      const simulator = await harness.simulator();
      simulator.flash.program(0x9000, new Uint8Array(0x100)); // something in the sector before the region
      const region = { address: 0x9100, name: "nvs.bin", data: random(0x300) };
      const warnings: string[] = [];
      await flashImages(await harness.session(simulator, { stub }), [region], { onWarning: (w) => warnings.push(`${w.region}: ${w.message}`) });
      expect(warnings).toEqual([expect.stringMatching(/^nvs\.bin: 0x9100 is not 4 KB-aligned.*flash at 0x9000/)]);
      expect(holds(simulator.flash, region), `stub ${stub}`).toBe(true);
      // What the warning said: the bytes before it in its sector are erased.
      expect(simulator.flash.read(0x9000, 0x100).every((byte) => byte === 0xff)).toBe(true);
      await harness.close();
    }
  });
});
