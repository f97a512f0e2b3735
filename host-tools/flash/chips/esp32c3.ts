import { ESP32_FLASH_FREQUENCIES, bits, laterSpiRegisters, type ChipFamily, type ReadWord } from "./chip-family.ts";

const EFUSE_BASE = 0x60008800;
const BLOCK1 = EFUSE_BASE + 0x044;
const RTC_CNTL = 0x60008000;

const NAMES: Record<number, string> = { 0: "ESP32-C3 (QFN32)", 1: "ESP8685 (QFN28)", 2: "ESP32-C3 AZ (QFN32)", 3: "ESP8686 (QFN24)" };
const FLASH: Record<number, string> = { 1: "Embedded Flash 4MB", 2: "Embedded Flash 2MB", 3: "Embedded Flash 1MB", 4: "Embedded Flash 8MB" };
const FLASH_VENDORS: Record<number, string> = { 1: "XMC", 2: "GD", 3: "FM", 4: "TT", 5: "ZBIT" };

export const ESP32C3: ChipFamily = {
  name: "esp32c3",
  label: "ESP32-C3",
  imageChipId: 5,
  // Revisions before v0.3 (ECO3) have no chip id in GET_SECURITY_INFO: these magic values tell them.
  magicValues: [0x6921506f, 0x1b31506f, 0x4881606f, 0x4361606f],
  securityInfo: "with-chip-id",
  bootloaderOffset: 0x0,
  macRegister: BLOCK1,
  spi: laterSpiRegisters(0x60002000),
  romBeginHasEncryptFlag: true,
  flashFrequencies: ESP32_FLASH_FREQUENCIES,
  watchdogs: { wdtProtect: RTC_CNTL + 0xa8, wdtConfig0: RTC_CNTL + 0x90, wdtKey: 0x50d83aa1, swdProtect: RTC_CNTL + 0xb0, swdConfig: RTC_CNTL + 0xac, swdKey: 0x8f1d312a, swdAutoFeed: 1 << 31 },
  async describe(read: ReadWord) {
    const [word3, word4, word5] = [await read(BLOCK1 + 12), await read(BLOCK1 + 16), await read(BLOCK1 + 20)];
    const major = bits(word5, 24, 2);
    const minor = (bits(word5, 23, 1) << 3) + bits(word3, 18, 3);
    const name = NAMES[bits(word3, 21, 3)] ?? "Unknown ESP32-C3";
    const features = ["Wi-Fi", "BT 5 (LE)", "Single Core", "160MHz"];
    const flash = bits(word3, 27, 3);
    if (flash !== 0) features.push(`${FLASH[flash] ?? "Unknown Embedded Flash"} (${FLASH_VENDORS[bits(word4, 0, 3)] ?? ""})`);
    return { description: `${name} (revision v${major}.${minor})`, major, minor, features };
  },
};
