import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAppImage } from "../../../../host-tools/flash/image/app-image.ts";
import { parsePartitionTable } from "../../../../host-tools/flash/image/partition-table.ts";
import { FlashPlanError, validateFlashPlan } from "../../../../host-tools/flash/image/plan.ts";

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../../fixtures/esp32/${name}`, import.meta.url)));
const bootloader = fixture("bootloader_esp32.bin");
const app = fixture("esp32-app-template.bin");
const s2app = fixture("esp_idf_blink_esp32s2.bin");
const partitions = parsePartitionTable(fixture("partitions_singleapp.bin"), { requireEndMarker: false });
const MB4 = 4 * 1024 * 1024;

function problemsOf(fn: () => void): string[] {
  try { fn(); } catch (e) { if (e instanceof FlashPlanError) return e.problems.map((p) => p.problem + " " + p.fix); throw e; }
  return [];
}

describe("validateFlashPlan", () => {
  it("accepts a normal ESP32 layout", () => {
    expect(problemsOf(() => validateFlashPlan([
      { address: 0x1000, data: bootloader, name: "bootloader" }, { address: 0x10000, data: app, name: "app" },
    ], { flashSize: MB4, chip: "esp32", partitions }))).toEqual([]);
  });
  it("names an S2 image on an ESP32 and the fix", () => {
    const p = problemsOf(() => validateFlashPlan([{ address: 0x10000, data: s2app, name: "app" }], { flashSize: MB4, chip: "esp32", partitions }));
    expect(p.join()).toContain("this image is for ESP32-S2 but the board is an ESP32");
    expect(p.join()).toContain("build for -p esp32");
  });
  it("lists overlap, too big for flash, too big for partition and bad magic together", () => {
    const big = new Uint8Array(0x110000); big.set(app);
    const p = problemsOf(() => validateFlashPlan([
      { address: 0x1000, data: new Uint8Array(0x8000), name: "bootloader" },
      { address: 0x8000, data: new Uint8Array(0x9000), name: "table" },
      { address: 0x10000, data: big, name: "app" },
      { address: 0x1f0000, data: new Uint8Array(0x20000), name: "data" },
    ], { flashSize: 0x200000, chip: "esp32", partitions }));
    expect(p.some((s) => s.includes("not 0xe9"))).toBe(true);
    expect(p.some((s) => s.includes("inside bootloader"))).toBe(true);
    expect(p.some((s) => s.includes("do not fit partition"))).toBe(true);
    expect(p.some((s) => s.includes("past the"))).toBe(true);
  });
});

describe("validateFlashPlan at the chip's erase granularity", () => {
  const data = (address: number, length: number, name: string) => ({ address, data: new Uint8Array(length), name });
  it("refuses two regions in one 4 KB sector, naming both and the sector, though their bytes do not overlap", () => {
    const p = problemsOf(() => validateFlashPlan([data(0x9000, 0x100, "first.bin"), data(0x9100, 0x100, "second.bin")], { flashSize: MB4, chip: "esp32" }));
    expect(p).toHaveLength(1);
    expect(p[0]).toContain("at 0x9100 shares the 4 KB erase sector 0x9000..0xa000 with first.bin at 0x9000..0x9100");
    expect(p[0]).toContain("move it to 0xa000");
  });
  it("refuses a region that starts in the sector where the previous one ends", () => {
    const p = problemsOf(() => validateFlashPlan([data(0x9000, 0x1800, "a"), data(0xa800, 0x10, "b")], { flashSize: MB4, chip: "esp32" }));
    expect(p.join()).toContain("sector 0xa000..0xb000 with a at 0x9000..0xa800");
  });
  it("accepts regions that meet exactly at a sector boundary, or leave whole sectors between them", () => {
    expect(problemsOf(() => validateFlashPlan([data(0x9000, 0x1000, "a"), data(0xa000, 0x10, "b"), data(0xc000, 0x10, "c")], { flashSize: MB4, chip: "esp32" }))).toEqual([]);
  });
  it("warns about an unaligned address, naming the aligned one and the bytes the erase takes", () => {
    const warnings = validateFlashPlan([data(0x9100, 0x100, "nvs.bin"), data(0xb000, 0x10, "ok.bin")], { flashSize: MB4, chip: "esp32" });
    expect(warnings).toEqual([{ region: "nvs.bin", message: expect.stringMatching(/0x9100 is not 4 KB-aligned.*0x9000\.\.0x9100 \(256 bytes before it\) will be erased.*flash at 0x9000/) }]);
  });
});
