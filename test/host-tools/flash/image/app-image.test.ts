import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAppImage, ImageError } from "../../../../host-tools/flash/image/app-image.ts";

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../../fixtures/esp32/${name}`, import.meta.url)));

describe("parseAppImage", () => {
  it("parses the ESP32 bootloader with a valid checksum", () => {
    const image = parseAppImage(fixture("bootloader_esp32.bin"));
    expect(image.segmentCount).toBe(4);
    expect(image.extended.chipName).toBe("ESP32");
    expect(image.checksum.valid).toBe(true);
  });
  it("parses the S2 app with a valid appended hash", () => {
    const image = parseAppImage(fixture("esp_idf_blink_esp32s2.bin"));
    expect(image.extended.chipId).toBe(2);
    expect(image.hash?.valid).toBe(true);
  });
  it("reports truncation at every length of the bootloader as ImageError", () => {
    const bytes = fixture("bootloader_esp32.bin");
    for (let n = 0; n < bytes.length - 1; n += 7) expect(() => parseAppImage(bytes.subarray(0, n))).toThrow(ImageError);
  });
});
