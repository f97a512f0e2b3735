import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeEfuses, formatEfuseSummary, macCrc, type EfuseWords } from "../../../../host-tools/flash/efuse/esp32-efuse.ts";

const zeros = (): EfuseWords => ({ blocks: [new Array(7).fill(0), new Array(8).fill(0), new Array(8).fill(0), new Array(8).fill(0)], apbCtlDate: 0 });
const field = (words: EfuseWords, name: string) => decodeEfuses(words).find((f) => f.name === name)!;

describe("ESP32 eFuse decoding", () => {
  it("decodes espefuse's sample ESP32 (MAC 94:b9:7e:5a:6e:58, CRC 0xe2, D0WD rev 3)", () => {
    const words = zeros();
    const mac = [0x94, 0xb9, 0x7e, 0x5a, 0x6e, 0x58];
    expect(macCrc(mac)).toBe(0xe2); // the CRC espefuse's own sample shows for this MAC
    words.blocks[0][1] = ((mac[2]! << 24) | (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!) >>> 0;
    words.blocks[0][2] = (0xe2 << 16) | (mac[0]! << 8) | mac[1]!;
    words.blocks[0][3] = (1 << 15) | (1 << 13) | (1 << 9);
    words.blocks[0][4] = (3 << 8) | 0x33;
    words.blocks[0][5] = 1 << 20;
    words.blocks[0][6] = 1 << 2;
    words.apbCtlDate = 0x80000000;
    expect(field(words, "MAC").value).toBe("94:b9:7e:5a:6e:58 (CRC 0xe2 OK)");
    expect(field(words, "ADC_VREF")).toMatchObject({ value: "1121", raw: "0b00011" });
    expect(field(words, "CLK8M_FREQ")).toMatchObject({ value: "51", raw: "0x33" });
    expect(field(words, "WAFER_VERSION_MAJOR").value).toBe("3");
    expect(field(words, "PKG_VERSION").value).toBe("1");
    expect(field(words, "CODING_SCHEME").value).toBe("NONE (BLK1-3 len=256 bits)");
    expect(field(words, "CONSOLE_DEBUG_DISABLE")).toMatchObject({ value: "True", raw: "0b1" });
    expect(field(words, "FLASH_CRYPT_CNT")).toMatchObject({ value: "0", raw: "0b0000000" });
    const text = formatEfuseSummary(decodeEfuses(words));
    expect(text).toContain("ADC_VREF (BLOCK0):                                 True ADC reference voltage = 1121 R/W (0b00011)");
    expect(text).toMatch(/Mac fuses:\nMAC \(BLOCK0\): +MAC address = 94:b9:7e:5a:6e:58 \(CRC 0xe2 OK\) R\/W\n/);
  });

  it("says a MAC's CRC is wrong, and which protections are burned", () => {
    const words = zeros();
    words.blocks[0][1] = 0x5e1ab0c4;
    words.blocks[0][2] = (0x00 << 16) | 0x240a;
    words.blocks[0][0] = (1 << 2) | (1 << 7) | (1 << 16) | (0b11 << 20) | (1 << 27); // WR_DIS 2 and 7, RD_DIS 0, 2 crypt bits
    words.blocks[1][0] = 0xdeadbeef;
    words.blocks[3][5] = 1 << 24;
    expect(field(words, "MAC").value).toMatch(/^24:0a:5e:1a:b0:c4 \(CRC 0x00 invalid - calculated 0x[0-9a-f]{2}\)$/);
    expect(field(words, "FLASH_CRYPT_CNT")).toMatchObject({ value: "3", writable: false });
    expect(field(words, "UART_DOWNLOAD_DIS")).toMatchObject({ value: "True", writable: false });
    expect(field(words, "BLOCK1")).toMatchObject({ readable: false, writable: false, value: expect.stringMatching(/read-protected/) });
    expect(field(words, "BLOCK2").value).toBe(new Array(32).fill("00").join(" "));
    expect(field(words, "MAC_VERSION").value).toBe("Custom MAC in BLOCK3");
    expect(formatEfuseSummary(decodeEfuses(words))).toMatch(/BLOCK1 \(BLOCK1\): +Flash encryption key = \?\? .* -\/-/);
  });

  it("decodes any words without throwing, each field within its bits", () => {
    const word = fc.integer({ min: 0, max: 0xffffffff });
    const words = fc.record({
      blocks: fc.tuple(fc.array(word, { minLength: 7, maxLength: 7 }), fc.array(word, { minLength: 8, maxLength: 8 }), fc.array(word, { minLength: 8, maxLength: 8 }), fc.array(word, { minLength: 8, maxLength: 8 })),
      apbCtlDate: word,
    });
    fc.assert(fc.property(words, (w) => {
      const fields = decodeEfuses(w as EfuseWords);
      expect(fields).toHaveLength(decodeEfuses(zeros()).length);
      for (const f of fields) {
        if (f.raw?.startsWith("0b")) expect(f.raw).toMatch(/^0b[01]+$/);
        if (f.raw?.startsWith("0x")) expect(f.raw).toMatch(/^0x[0-9a-f]+$/);
      }
      const vref = Number(fields.find((f) => f.name === "ADC_VREF")!.value);
      expect(vref).toBeGreaterThanOrEqual(1100 - 15 * 7);
      expect(vref).toBeLessThanOrEqual(1100 + 15 * 7);
      expect(formatEfuseSummary(fields)).toContain("Security fuses:");
    }));
  });
});
