import fc from "fast-check";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAppImage } from "../../../../host-tools/flash/image/app-image.ts";
import { patchBootloader, patchFlashParams, resolveFlashSize } from "../../../../host-tools/flash/image/flash-params.ts";
import { flashSizeFromId } from "../../../../host-tools/flash/image/flash-size.ts";

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../../fixtures/esp32/${name}`, import.meta.url)));
const bootloader = fixture("bootloader_esp32.bin");
const app = fixture("esp32-app-template.bin");
const MB = 1024 * 1024;

describe("flash size from the JEDEC id", () => {
  it("reads the capacity byte as esptool's table does, and Adesto's second byte", () => {
    expect(flashSizeFromId(0x1640ef)).toBe(4 * MB); // Winbond W25Q32
    expect(flashSizeFromId(0x1840c8)).toBe(16 * MB); // GigaDevice GD25Q128
    expect(flashSizeFromId(0x3925c2)).toBe(32 * MB); // capacity 0x39 (Macronix style numbering)
    expect(flashSizeFromId(0x20ba20)).toBe(64 * MB); // 0x20 is 64 MB, not 2^32
    expect(flashSizeFromId(0x00881f)).toBe(8 * MB); // Adesto: the low 5 bits of byte 1, 0x88 & 0x1f = 8
    expect(flashSizeFromId(0xffffff)).toBeUndefined(); // no flash answering
    expect(flashSizeFromId(0x000000)).toBeUndefined();
  });

  it("names only sizes from 256 KB to 256 MB for any id", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffff }), (id) => {
      const size = flashSizeFromId(id);
      return size === undefined || (size >= 256 * 1024 && size <= 256 * MB && (size & (size - 1)) === 0);
    }));
  });
});

describe("patching the bootloader header", () => {
  it("changes mode/size/freq and keeps the image valid", () => {
    const patched = patchFlashParams(app, { mode: "dout", size: "8MB", freq: "80m" });
    const image = parseAppImage(patched);
    expect([patched[2], patched[3]]).toEqual([3, 0x3f]);
    expect(image.hash?.valid).toBe(true);
    expect(image.checksum.valid).toBe(true);
    expect(app[2]).not.toBe(3); // the input is untouched
  });

  it("detect writes the chip's size; keep leaves the header as built", () => {
    expect(bootloader[3]! >> 4).toBe(1); // built for 2MB
    const detected = resolveFlashSize("detect", 4 * MB);
    expect(detected).toEqual({ size: "4MB", notes: ["Auto-detected flash size: 4MB"] });
    const { data, note } = patchBootloader(bootloader, { size: detected.size });
    expect(data[3]! >> 4).toBe(2);
    expect(data[3]! & 0xf).toBe(bootloader[3]! & 0xf);
    expect(note).toBe(`Flash parameters set to 0x${bootloader[2]!.toString(16).padStart(2, "0")}2${(bootloader[3]! & 0xf).toString(16)}`);
    expect(parseAppImage(data).checksum.valid).toBe(true);
    expect(resolveFlashSize("keep", 4 * MB)).toEqual({ notes: [] });
    expect(patchBootloader(bootloader, {}).data).toBe(bootloader);
  });

  it("warns when a size given is larger than the chip's, and when a detected size has no header code", () => {
    expect(resolveFlashSize("16MB", 4 * MB).notes).toEqual(["Warning: --flash-size 16MB is larger than the 4MB flash the chip reports"]);
    expect(resolveFlashSize("2MB", 4 * MB)).toEqual({ size: "2MB", notes: [] });
    expect(resolveFlashSize("detect", 512 * 1024).size).toBeUndefined();
    expect(resolveFlashSize("detect", 512 * 1024).notes[0]).toMatch(/512KB flash has no size code.*keeping the header's size/);
  });

  it("writes each chip's frequency code: the ESP32-C6 takes 80m as 0x0 and has no 26m", () => {
    const c6 = fixture("helloworld-esp32c6.bin");
    expect(patchFlashParams(c6, { freq: "80m", chip: "esp32c6" })[3]! & 0x0f).toBe(0x0);
    expect(patchFlashParams(c6, { freq: "20m", chip: "esp32c6" })[3]! & 0x0f).toBe(0x2);
    expect(patchFlashParams(bootloader, { freq: "80m" })[3]! & 0x0f).toBe(0xf);
    expect(() => patchFlashParams(c6, { freq: "26m", chip: "esp32c6" })).toThrow("--flash-freq 26m: the ESP32-C6 takes 80m, 40m, 20m");
  });

  it("leaves data that is not an image alone, with a warning, as esptool does", () => {
    const notImage = new Uint8Array(64).fill(0xaa);
    const { data, note } = patchBootloader(notImage, { size: "4MB" });
    expect(data).toBe(notImage);
    expect(note).toMatch(/not a valid ESP32 image .*not changed/);
  });
});
