import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { flashImages, type FlashOptions, type RegionReport } from "../../../../host-tools/flash/operations/flash-images.ts";
import { split } from "../../../../host-tools/flash/operations/block-diff.ts";
import type { FaultOptions } from "../../../../host-tools/flash/sim/faults.ts";
import { ChipSimHarness, standardImages } from "../../../support/chip-sim.ts";
import { oneLineChange } from "../../../support/rebuilt-app.ts";

const harness = new ChipSimHarness();
afterEach(() => harness.close());

type Region = { address: number; name: string; data: Uint8Array };
const SECTOR = 0x1000;

function holds(flash: { read(address: number, length: number): Uint8Array }, region: Region): boolean {
  return Buffer.from(flash.read(region.address, region.data.length)).equals(Buffer.from(region.data));
}

/** Random data that does not start like an app image (0xe9), which the plan would check as one. */
function random(length: number): Uint8Array {
  const data = new Uint8Array(randomBytes(length));
  data[0] = 0;
  return data;
}

/** A copy of `data` with sector `to` made a copy of sector `from`. */
function withSectorCopied(data: Uint8Array, from: number, to: number): Uint8Array {
  const out = data.slice();
  out.set(data.subarray(from * SECTOR, (from + 1) * SECTOR), to * SECTOR);
  return out;
}

/** Flashes `before`, then `after` through a chip with `faults`; returns the second flash's reports and what it did. */
async function reflash(before: Region[], after: Region[], faults: FaultOptions = {}, options: FlashOptions & { stub?: boolean } = {}) {
  const first = await harness.simulator();
  await flashImages(await harness.session(first, { stub: options.stub }), before);
  await harness.close();
  const simulator = await harness.simulator({ flash: first.flash, faults });
  const repaired: string[] = [];
  const starts: string[] = [];
  const reports = await flashImages(await harness.session(simulator, { stub: options.stub }), after, {
    ...options,
    onRegionStart: (region, diff) => starts.push(`${region.name}${diff ? `: ${diff.changedSectors} of ${diff.sectors}` : ""}`),
    onRepair: (damaged) => repaired.push(...damaged.map((r) => r.name)),
  });
  for (const region of after) expect(holds(simulator.flash, region), region.name).toBe(true);
  return { reports, repaired, starts, chip: simulator.chip!, byName: (name: string) => reports.find((r) => r.name === name) as RegionReport };
}

function rebuilt() {
  const images = standardImages();
  return { images, changed: images.map((image) => (image.name === "app" ? { ...image, data: oneLineChange(image.data) } : image)) };
}

describe("block-level diff flashing", () => {
  it("after a one-line change writes only the app's 3 changed sectors (header, code, checksum), each its own write", async () => {
    const { images, changed } = rebuilt();
    const { reports, starts, repaired, chip, byName } = await reflash(images, changed);
    expect(reports.map((r) => r.skipped)).toEqual([true, true, false]);
    expect(starts).toEqual(["app: 3 of 147"]);
    expect(byName("app")).toMatchObject({ sectors: 147, changedSectors: 3 });
    expect(chip.commandCounts.get("FLASH_DEFL_BEGIN")).toBe(3);
    expect(repaired).toEqual([]);
    // Three sectors of data sent, not the region's 400 KB of compressed app.
    expect(byName("app").compressedSize).toBeLessThan(3 * SECTOR);
  });

  it("--no-diff writes the changed region whole; unchanged regions are still skipped", async () => {
    const { images, changed } = rebuilt();
    const { reports, chip, byName } = await reflash(images, changed, {}, { diff: false });
    expect(reports.map((r) => r.skipped)).toEqual([true, true, false]);
    expect(chip.commandCounts.get("FLASH_DEFL_BEGIN")).toBe(1);
    expect(byName("app").changedSectors).toBeUndefined();
    expect(byName("app").compressedSize).toBeGreaterThan(300_000);
  });

  it("works the same through the ROM loader", async () => {
    const { images, changed } = rebuilt();
    const { chip, byName } = await reflash(images.slice(1), changed.slice(1), {}, { stub: false });
    expect(chip.mode).toBe("rom");
    expect(byName("app")).toMatchObject({ sectors: 147, changedSectors: 3 });
    expect(chip.commandCounts.get("FLASH_DEFL_BEGIN")).toBe(3);
  });

  it("on an erased chip asks one MD5 per region before writing, as without the diff", async () => {
    const simulator = await harness.simulator();
    await flashImages(await harness.session(simulator), standardImages());
    // One question per region, one check of each write, one final check of each region.
    expect(simulator.chip!.commandCounts.get("SPI_FLASH_MD5")).toBe(3 * 3);
    expect(simulator.chip!.commandCounts.get("FLASH_DEFL_BEGIN")).toBe(3);
  });

  it("over a different app stops asking about sectors after two blocks whose sectors all differ", async () => {
    const old = { address: 0x100000, name: "data", data: random(0x80000) };
    const fresh = { ...old, data: random(0x80000) };
    const { chip, byName } = await reflash([old], [fresh]);
    expect(byName("data")).toMatchObject({ sectors: 128, changedSectors: 128 });
    // First block, its 16 sectors, the second block and its 16, then the 6 other blocks; one write, its check, the final check.
    expect(chip.commandCounts.get("SPI_FLASH_MD5")).toBe(1 + 16 + 1 + 16 + 6 + 2);
  });

  it("a region that does not start a sector is cut at the chip's sectors", async () => {
    expect(split({ start: 0x9100, end: 0xb080 }, SECTOR)).toEqual([{ start: 0x9100, end: 0xa000 }, { start: 0xa000, end: 0xb000 }, { start: 0xb000, end: 0xb080 }]);
    const old = { address: 0x9100, name: "nvs.bin", data: random(0x2000) };
    const changed = { ...old, data: old.data.slice() };
    changed.data[0x1f80] ^= 0xff; // in the last sector, 0xb000..0xb100
    const { byName, chip } = await reflash([old], [changed]);
    expect(byName("nvs.bin")).toMatchObject({ sectors: 3, changedSectors: 1 });
    expect(chip.commandCounts.get("FLASH_DEFL_BEGIN")).toBe(1);
  });
});

describe("the chip's MD5 answers never make a changed sector be skipped", () => {
  // Re-flashing the rebuilt app over the old one, the MD5s are: #1 bootloader, #2 table, #3 the app's first 64 KB
  // block (changed), #4..#19 its sectors: #4 is 0x10000 (changed), #5 is 0x11000 (unchanged).
  it("a lost answer that a resend recovers: the sector is unsure, so written", async () => {
    const { images, changed } = rebuilt();
    const { byName, repaired } = await reflash(images, changed, { replies: [{ op: "SPI_FLASH_MD5", nth: 5, effect: "lost" }] });
    expect(byName("app").changedSectors).toBe(4);
    expect(repaired).toEqual([]);
  });

  it("an answer lost on every try: unknown is changed", async () => {
    const { images, changed } = rebuilt();
    for (const nth of [4, 5]) {
      const { byName, repaired } = await reflash(images, changed, { replies: [{ op: "SPI_FLASH_MD5", nth, times: 3, effect: "lost" }] });
      expect(byName("app").changedSectors, `MD5 #${nth}`).toBe(nth === 4 ? 3 : 4);
      expect(repaired).toEqual([]);
      await harness.close();
    }
  });

  it("a damaged digest (answers carry no checksum) reads as a difference, never as a match", async () => {
    const { images, changed } = rebuilt();
    for (const nth of [3, 4, 5]) {
      const { byName, repaired } = await reflash(images, changed, { replies: [{ op: "SPI_FLASH_MD5", nth, effect: "damaged" }] });
      expect(byName("app").changedSectors, `MD5 #${nth}`).toBe(nth === 5 ? 4 : 3);
      expect(repaired).toEqual([]);
      await harness.close();
    }
  });

  it("a late answer, whose resend is answered twice, is not taken for the next sector's", async () => {
    // Sector 2 of the new data is a copy of sector 1: read as sector 2's, sector 1's answer would say "unchanged".
    const old = { address: 0x100000, name: "data", data: random(0x20000) };
    const fresh = { ...old, data: withSectorCopied(old.data, 1, 2) };
    // #1 is the first block, #2 sector 0, #3 sector 1: answered after the host's 300 ms timeout and its resend.
    const { byName, repaired } = await reflash([old], [fresh], { replies: [{ op: "SPI_FLASH_MD5", nth: 3, effect: "late", ms: 500 }] });
    expect(byName("data").changedSectors).toBe(2); // sector 1 (unsure) and sector 2
    expect(repaired).toEqual([]);
  });

  it("a damaged MD5 address that lands on matching bytes skips a changed sector, and the final check rewrites the region", async () => {
    const old = { address: 0x100000, name: "data", data: random(0x20000) };
    // Sector 2 becomes what the chip holds at 0x106000 (sector 6), and sector 8 changes too.
    const fresh = { ...old, data: withSectorCopied(old.data, 6, 2) };
    fresh.data.set(random(SECTOR), 8 * SECTOR);
    // #1 is the first block, #2 sector 0, #3 sector 1, #4 sector 2: asked at 0x102000 ^ 0x4000.
    const { repaired } = await reflash([old], [fresh], { commands: [{ op: "SPI_FLASH_MD5", field: "address", nth: 4, xor: 0x4000 }] });
    expect(repaired).toEqual(["data"]);
  });
});
