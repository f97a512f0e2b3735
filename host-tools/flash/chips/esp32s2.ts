import { ESP32_FLASH_FREQUENCIES, bits, laterSpiRegisters, type ChipFamily, type ReadWord } from "./chip-family.ts";

const EFUSE_BASE = 0x3f41a000;
const BLOCK1 = EFUSE_BASE + 0x044;
const BLOCK2 = EFUSE_BASE + 0x05c;

const NAMES: Record<number, string> = { 0: "ESP32-S2", 1: "ESP32-S2FH2", 2: "ESP32-S2FH4", 102: "ESP32-S2FNR2", 100: "ESP32-S2R2" };
const FLASH: Record<number, string> = { 0: "No Embedded Flash", 1: "Embedded Flash 2MB", 2: "Embedded Flash 4MB" };
const PSRAM: Record<number, string> = { 0: "No Embedded PSRAM", 1: "Embedded PSRAM 2MB", 2: "Embedded PSRAM 4MB" };
const CALIBRATION: Record<number, string> = { 0: "No calibration in BLK2 of efuse", 1: "ADC and temperature sensor calibration in BLK2 of eFuse V1", 2: "ADC and temperature sensor calibration in BLK2 of eFuse V2" };

export const ESP32S2: ChipFamily = {
  name: "esp32s2",
  label: "ESP32-S2",
  imageChipId: 2,
  magicValues: [0x000007c6],
  securityInfo: "without-chip-id",
  bootloaderOffset: 0x1000,
  macRegister: BLOCK1,
  spi: laterSpiRegisters(0x3f402000),
  romBeginHasEncryptFlag: true,
  flashFrequencies: ESP32_FLASH_FREQUENCIES,
  usbOtgProductId: 0x0002,
  watchdogs: undefined,
  async describe(read: ReadWord) {
    const word3 = await read(BLOCK1 + 12);
    const word4 = await read(BLOCK1 + 16);
    const major = bits(word3, 18, 2);
    const minor = (bits(word3, 20, 1) << 3) + bits(word4, 4, 3);
    const flash = bits(word3, 21, 4);
    const psram = bits(word3, 28, 4);
    const calibration = bits(await read(BLOCK2 + 16), 4, 3);
    const name = NAMES[flash + psram * 100] ?? "Unknown ESP32-S2";
    const features = ["Wi-Fi", "Single Core", "240MHz", FLASH[flash] ?? "Unknown Embedded Flash", PSRAM[psram] ?? "Unknown Embedded PSRAM", CALIBRATION[calibration] ?? "Unknown calibration in BLK2"];
    return { description: `${name} (revision v${major}.${minor})`, major, minor, features };
  },
};
