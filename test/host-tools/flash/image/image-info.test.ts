import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { formatImageInfo } from "../../../../host-tools/flash/image/image-info.ts";
import { ImageError, parseAppImage } from "../../../../host-tools/flash/image/app-image.ts";

const dir = new URL("../../../fixtures/esp32/", import.meta.url);
const names = ["bootloader_esp32", "esp32-app-template", "esp_idf_blink_esp32s2"];

describe("formatImageInfo matches esptool image_info --version 2", () => {
  for (const name of names) {
    it(name, () => {
      // The reference starts with esptool's "esptool.py v4.8.1" banner, which describes the tool; esplab omits it.
      const want = readFileSync(new URL(`${name}.image_info.txt`, dir), "latin1").split("\n").slice(1);
      const got = formatImageInfo(new Uint8Array(readFileSync(new URL(`${name}.bin`, dir)))).split("\n");
      for (let i = 0; i < want.length; i++) expect(`${i}: ${got[i]}`).toBe(`${i}: ${want[i]}`);
      expect(got.length).toBe(want.length);
    });
  }
});

describe("image parsing never throws anything but ImageError", () => {
  const onlyTyped = (b: Uint8Array) => { try { formatImageInfo(b); } catch (e) { if (!(e instanceof ImageError)) throw e; } };
  it("random bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => { b[0] = 0xe9; onlyTyped(b); }), { numRuns: 300 });
  });
  it("mutations of real fixtures", () => {
    for (const name of names) {
      const base = new Uint8Array(readFileSync(new URL(`${name}.bin`, dir)));
      fc.assert(fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), (edits) => {
        const b = base.slice(); for (const [i, v] of edits) b[i] = v; onlyTyped(b);
      }), { numRuns: 100 });
    }
  });
  it("truncation at every length of the bootloader names the byte", () => {
    const base = new Uint8Array(readFileSync(new URL("bootloader_esp32.bin", dir)));
    for (let n = 0; n < base.length; n++) expect(() => parseAppImage(base.subarray(0, n))).toThrow(/truncated at byte/);
  });
});
