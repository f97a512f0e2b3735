import { bits, laterSpiRegisters, type ChipFamily, type ReadWord } from "./chip-family.ts";

const EFUSE_BASE = 0x600b0800;
const BLOCK1 = EFUSE_BASE + 0x044;
const LP_WDT = 0x600b1c00;

const FLASH: Record<number, string> = { 1: "Embedded Flash 4MB", 2: "Embedded Flash 8MB" };

export const ESP32C6: ChipFamily = {
  name: "esp32c6",
  label: "ESP32-C6",
  imageChipId: 13,
  magicValues: [0x2ce0806f],
  securityInfo: "with-chip-id",
  bootloaderOffset: 0x0,
  macRegister: BLOCK1,
  spi: laterSpiRegisters(0x60003000),
  romBeginHasEncryptFlag: true,
  // esptool writes 0x0 for 80m too: the ROM's MSPI divider for the high-speed code is wrong. There is no 26m.
  flashFrequencies: { "80m": 0x0, "40m": 0x0, "20m": 0x2 },
  watchdogs: { wdtProtect: LP_WDT + 0x18, wdtConfig0: LP_WDT, wdtKey: 0x50d83aa1, swdProtect: LP_WDT + 0x20, swdConfig: LP_WDT + 0x1c, swdKey: 0x50d83aa1, swdAutoFeed: 1 << 18 },
  async describe(read: ReadWord) {
    const [word3, word4] = [await read(BLOCK1 + 12), await read(BLOCK1 + 16)];
    const major = bits(word3, 22, 2);
    const minor = bits(word3, 18, 4);
    const flash = bits(word4, 0, 3);
    const pkg = bits(word3, 24, 3);
    // Both the ESP32-C6FH4 and the FH8 have package 1; the embedded flash tells them apart.
    const name = pkg === 0 ? "ESP32-C6 (QFN40)" : pkg === 1 && flash === 1 ? "ESP32-C6FH4 (QFN32)" : pkg === 1 && flash === 2 ? "ESP32-C6FH8 (QFN32)" : "Unknown ESP32-C6";
    const features = ["Wi-Fi 6", "BT 5 (LE)", "IEEE802.15.4", "Single Core + LP Core", "160MHz"];
    if (flash !== 0) features.push(FLASH[flash] ?? "Unknown Embedded Flash");
    return { description: `${name} (revision v${major}.${minor})`, major, minor, features };
  },
};
