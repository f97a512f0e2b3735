import { ESP32_FLASH_FREQUENCIES, bits, laterSpiRegisters, type ChipFamily, type ReadWord } from "./chip-family.ts";

const EFUSE_BASE = 0x60007000;
const BLOCK1 = EFUSE_BASE + 0x044;
const BLOCK2 = EFUSE_BASE + 0x05c;
const RTC_CNTL = 0x60008000;

const FLASH: Record<number, string> = { 1: "Embedded Flash 8MB", 2: "Embedded Flash 4MB" };
const FLASH_VENDORS: Record<number, string> = { 1: "XMC", 2: "GD", 3: "FM", 4: "TT", 5: "BY" };
const PSRAM: Record<number, string> = { 1: "Embedded PSRAM 8MB", 2: "Embedded PSRAM 2MB", 3: "Embedded PSRAM 16MB", 4: "Embedded PSRAM 4MB" };
const PSRAM_VENDORS: Record<number, string> = { 1: "AP_3v3", 2: "AP_1v8" };

export const ESP32S3: ChipFamily = {
  name: "esp32s3",
  label: "ESP32-S3",
  imageChipId: 9,
  magicValues: [0x00000009],
  securityInfo: "with-chip-id",
  bootloaderOffset: 0x0,
  macRegister: BLOCK1,
  spi: laterSpiRegisters(0x60002000),
  romBeginHasEncryptFlag: true,
  flashFrequencies: ESP32_FLASH_FREQUENCIES,
  usbOtgProductId: 0x0009,
  watchdogs: { wdtProtect: RTC_CNTL + 0xb0, wdtConfig0: RTC_CNTL + 0x98, wdtKey: 0x50d83aa1, swdProtect: RTC_CNTL + 0xb8, swdConfig: RTC_CNTL + 0xb4, swdKey: 0x8f1d312a, swdAutoFeed: 1 << 31 },
  async describe(read: ReadWord) {
    const [word3, word4, word5] = [await read(BLOCK1 + 12), await read(BLOCK1 + 16), await read(BLOCK1 + 20)];
    const minorRaw = (bits(word5, 23, 1) << 3) + bits(word3, 18, 3);
    // Chips of v0.0 carry block version v1.1, whose major-version field means something else (esptool is_eco0).
    const eco0 = (minorRaw & 7) === 0 && bits(await read(BLOCK2 + 16), 0, 2) === 1 && bits(word3, 24, 3) === 1;
    const [major, minor] = eco0 ? [0, 0] : [bits(word5, 24, 2), minorRaw];
    const name = { 0: "ESP32-S3 (QFN56)", 1: "ESP32-S3-PICO-1 (LGA56)" }[bits(word3, 21, 3)] ?? "Unknown ESP32-S3";
    const features = ["Wi-Fi", "BT 5 (LE)", "Dual Core + LP Core", "240MHz"];
    const flash = bits(word3, 27, 3);
    if (flash !== 0) features.push(`${FLASH[flash] ?? "Unknown Embedded Flash"} (${FLASH_VENDORS[bits(word4, 0, 3)] ?? ""})`);
    const psram = (bits(word5, 19, 1) << 2) | bits(word4, 3, 2);
    if (psram !== 0) features.push(`${PSRAM[psram] ?? "Unknown Embedded PSRAM"} (${PSRAM_VENDORS[bits(word4, 7, 2)] ?? ""})`);
    return { description: `${name} (revision v${major}.${minor})`, major, minor, features };
  },
};
