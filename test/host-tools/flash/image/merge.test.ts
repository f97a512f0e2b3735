import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAppImage } from "../../../../host-tools/flash/image/app-image.ts";
import { toIntelHex } from "../../../../host-tools/flash/image/intel-hex.ts";
import { MergeError, mergeImages } from "../../../../host-tools/flash/image/merge.ts";
import { FlashPlanError } from "../../../../host-tools/flash/image/plan.ts";
import { esp32Fixture, standardImages } from "../../../support/chip-sim.ts";

const hasObjcopy = (() => {
  try {
    execFileSync("objcopy", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** Reads Intel HEX strictly (record checksums, lengths, types 00/01/04) into address → byte. */
function decodeHex(text: string): Map<number, number> {
  const bytes = new Map<number, number>();
  const lines = text.trimEnd().split("\n");
  let upper = 0;
  lines.forEach((line, index) => {
    expect(line).toMatch(/^:([0-9A-F]{2})+$/);
    const record = Buffer.from(line.slice(1), "hex");
    expect(record.length).toBe(record[0]! + 5);
    expect(record.reduce((sum, b) => sum + b, 0) & 0xff).toBe(0);
    const [length, type] = [record[0]!, record[3]!];
    const address = (record[1]! << 8) | record[2]!;
    if (type === 0x04) upper = record.readUInt16BE(4) << 16;
    else if (type === 0x00) {
      expect(address + length).toBeLessThanOrEqual(0x10000); // a record never wraps within its 64 KB segment
      for (let i = 0; i < length; i++) bytes.set(upper + address + i, record[4 + i]!);
    } else {
      expect(type).toBe(0x01);
      expect(index).toBe(lines.length - 1);
    }
  });
  return bytes;
}

describe("mergeImages", () => {
  it("lays the standard set out as one image from 0, gaps 0xFF, padded to a flash size", () => {
    const merged = mergeImages(standardImages(), { chip: "esp32", padTo: 4 * 1024 * 1024 });
    const raw = merged.raw();
    expect(raw.length).toBe(4 * 1024 * 1024);
    for (const region of standardImages()) expect(Buffer.from(raw.subarray(region.address, region.address + region.data.length)).equals(region.data)).toBe(true);
    expect(raw.subarray(0, 0x1000).every((b) => b === 0xff)).toBe(true);
    const appEnd = 0x10000 + esp32Fixture("esp32-app-template.bin").length;
    expect(raw.subarray(appEnd).every((b) => b === 0xff)).toBe(true);
  });

  it("starts the raw output at --target-offset and refuses a file before it", () => {
    const merged = mergeImages(standardImages(), { chip: "esp32", targetOffset: 0x1000 });
    expect(merged.raw().subarray(0, 4)).toEqual(esp32Fixture("bootloader_esp32.bin").subarray(0, 4));
    expect(() => mergeImages(standardImages(), { chip: "esp32", targetOffset: 0x2000 })).toThrow(MergeError);
    expect(() => mergeImages(standardImages(), { chip: "esp32", targetOffset: 0x2000 })).toThrow(/bootloader is at 0x1000, before the --target-offset 0x2000/);
  });

  it("patches the bootloader header at 0x1000 only, keeping its checksum and SHA-256 valid", () => {
    const merged = mergeImages(standardImages(), { chip: "esp32", header: { size: "4MB", mode: "dout" } });
    const raw = merged.raw();
    const bootloader = raw.subarray(0x1000, 0x1000 + esp32Fixture("bootloader_esp32.bin").length);
    expect([bootloader[2], bootloader[3]! >> 4]).toEqual([3, 2]);
    expect(parseAppImage(bootloader).checksum.valid).toBe(true);
    expect(merged.notes).toEqual([expect.stringMatching(/^Flash parameters set to 0x0320$/)]);
    const app = raw.subarray(0x10000, 0x10010);
    expect(Buffer.from(app).equals(esp32Fixture("esp32-app-template.bin").subarray(0, 16))).toBe(true);
  });

  it("finds the bootloader at the chip's own offset: 0x0 for the ESP32-C3, with the C3's frequency codes", () => {
    const c3 = [
      { address: 0x0, name: "bootloader", data: esp32Fixture("bootloader_esp32c3.bin") },
      { address: 0x8000, name: "partition-table", data: esp32Fixture("partitions_singleapp.bin") },
    ];
    const merged = mergeImages(c3, { chip: "esp32c3", header: { size: "4MB", freq: "80m", chip: "esp32c3" } });
    const bootloader = merged.raw().subarray(0, c3[0]!.data.length);
    expect(bootloader[3]).toBe(0x2f);
    expect(parseAppImage(bootloader).hash?.valid).toBe(true);
    expect(() => mergeImages(c3, { chip: "esp32" })).toThrow(/this image is for ESP32-C3 but the board is an ESP32/);
  });

  it("refuses what flashing refuses: two files in one erase sector, an image for another chip, past the size", () => {
    const a = { address: 0x9000, name: "a.bin", data: new Uint8Array(0x100) };
    const b = { address: 0x9800, name: "b.bin", data: new Uint8Array(0x100) };
    expect(() => mergeImages([a, b], { chip: "esp32" })).toThrow(/b.bin: at 0x9800 shares the 4 KB erase sector 0x9000..0xa000/);
    const s2 = { address: 0x10000, name: "s2.bin", data: esp32Fixture("esp_idf_blink_esp32s2.bin") };
    expect(() => mergeImages([s2], { chip: "esp32" })).toThrow(/this image is for ESP32-S2 but the board is an ESP32/);
    expect(() => mergeImages([{ ...a, address: 0xff000, data: new Uint8Array(0x2000) }], { chip: "esp32", padTo: 1024 * 1024 })).toThrow(FlashPlanError);
    expect(mergeImages([{ ...a, address: 0x9100 }], { chip: "esp32" }).warnings[0]?.message).toMatch(/0x9100 is not 4 KB-aligned.*flash at 0x9000/);
  });

  it("raw and Intel HEX hold the same bytes at the same addresses for any non-overlapping set", () => {
    // Sector 1 (the bootloader's) and a first byte of 0xE9 would be checked as images; these are plain data.
    const set = fc.uniqueArray(fc.record({ sector: fc.integer({ min: 2, max: 300 }), data: fc.uint8Array({ minLength: 1, maxLength: 600 }) }), { selector: (r) => r.sector, maxLength: 6, minLength: 1 });
    fc.assert(fc.property(set, (items) => {
      const regions = items.map((r, i) => ({ address: r.sector * 0x1000 + (i % 3), name: `r${i}`, data: r.data.map((b, j) => (j === 0 ? b & 0x7f : b)) }));
      const merged = mergeImages(regions, { chip: "esp32" });
      const raw = merged.raw();
      const fromHex = decodeHex(merged.hex());
      expect(fromHex.size).toBe(regions.reduce((sum, r) => sum + r.data.length, 0));
      for (const [address, byte] of fromHex) expect(raw[address]).toBe(byte);
      const covered = new Set(fromHex.keys());
      for (let i = 0; i < raw.length; i += 97) if (!covered.has(i)) expect(raw[i]).toBe(0xff);
    }), { numRuns: 60 });
  });
});

describe("Intel HEX", () => {
  it("starts a new extended linear address at each 64 KB boundary and ends with the EOF record", () => {
    const text = toIntelHex([{ address: 0xfff8, data: Uint8Array.from({ length: 24 }, (_, i) => i) }]);
    // Checksums worked by hand: 0x100 - (0x08 + 0xFF + 0xF8 + 0+1+…+7) & 0xFF = 0xE5.
    expect(text.split("\n")).toEqual([
      ":020000040000FA",
      ":08FFF8000001020304050607E5",
      ":020000040001F9",
      ":1000000008090A0B0C0D0E0F1011121314151617F8",
      ":00000001FF",
      "",
    ]);
  });

  it.skipIf(!hasObjcopy)("reads back through binutils' objcopy as the raw merge (a real Intel HEX reader)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "esplab-hex-"));
    try {
      const merged = mergeImages(standardImages(), { chip: "esp32", targetOffset: 0x1000 });
      writeFileSync(path.join(dir, "set.hex"), merged.hex());
      execFileSync("objcopy", ["-I", "ihex", "-O", "binary", "--gap-fill", "0xff", path.join(dir, "set.hex"), path.join(dir, "set.bin")]);
      expect(readFileSync(path.join(dir, "set.bin")).equals(merged.raw())).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
