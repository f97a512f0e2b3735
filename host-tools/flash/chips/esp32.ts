import { ESP32_FLASH_FREQUENCIES, bits, type ChipFamily, type ReadWord } from "./chip-family.ts";

export const ESP32_EFUSE_BASE = 0x3ff5a000;
/** APB_CTL_DATE: bit 31 is the third bit of the wafer version. */
export const ESP32_APB_CTL_DATE = 0x3ff6607c;

const PACKAGES = ["ESP32-D0WDQ6", "ESP32-D0WD", "ESP32-D2WD", "", "ESP32-U4WDH", "ESP32-PICO-D4", "ESP32-PICO-V3-02"];

/** esptool's ESP32 chip description from eFuse words 3 and 5 and the APB_CTL_DATE register. */
export function describeEsp32(word3: number, word5: number, apbCtlDate: number): { description: string; major: number; minor: number; features: string[] } {
  const major = (word3 >> 15) & 1 ? ((word5 >> 20) & 1 ? ((apbCtlDate >>> 31) & 1 ? 3 : 2) : 1) : 0;
  const minor = bits(word5, 24, 2);
  const pkg = ((word3 >> 9) & 7) + (((word3 >> 2) & 1) << 3);
  const singleCore = (word3 & 1) !== 0;
  const packages = [...PACKAGES];
  if (singleCore) {
    packages[0] = "ESP32-S0WDQ6";
    packages[1] = "ESP32-S0WD";
  }
  if (major === 3) packages[5] = "ESP32-PICO-V3";
  let name = packages[pkg] || "unknown ESP32";
  if (major === 3 && (pkg === 0 || pkg === 1)) name += "-V3";
  const features = ["Wi-Fi"];
  if ((word3 & 2) === 0) features.push("BT");
  features.push(singleCore ? "Single Core" : "Dual Core");
  return { description: `${name} (revision v${major}.${minor})`, major, minor, features };
}

/** RTCCALICFG1: the ROM's calibration of its 8 MHz clock against the crystal, bits 7..31. */
export const ESP32_RTC_CALI_CFG1 = 0x3ff5f06c;

/**
 * The ESP32's ROM sets its UART divider from a crystal frequency it estimates with its drifting 8 MHz clock, so a
 * ROM-mode baud change asks for the rate scaled by estimate / true crystal (esptool targets/esp32.py change_baud).
 */
export async function esp32RomBaudArgument(read: ReadWord, baud: number): Promise<number> {
  const calibration = bits(await read(ESP32_RTC_CALI_CFG1), 7, 25);
  const ck8m = (await read(ESP32_EFUSE_BASE + 4 * 4)) & 0xff;
  const estimate = (calibration * 15625 * ck8m) / 40;
  if (estimate === 0) return baud;
  const crystal = estimate > 33_000_000 ? 40_000_000 : 26_000_000;
  return Math.floor((baud * estimate) / crystal);
}

export const ESP32: ChipFamily = {
  name: "esp32",
  label: "ESP32",
  imageChipId: 0,
  magicValues: [0x00f01d83],
  securityInfo: "none",
  bootloaderOffset: 0x1000,
  macRegister: ESP32_EFUSE_BASE + 4,
  spi: { cmd: 0x3ff42000, usr: 0x3ff4201c, usr1: 0x3ff42020, usr2: 0x3ff42024, mosiLength: 0x3ff42028, misoLength: 0x3ff4202c, w0: 0x3ff42080 },
  romBeginHasEncryptFlag: false,
  flashFrequencies: ESP32_FLASH_FREQUENCIES,
  async describe(read: ReadWord) {
    const efuse = (word: number) => read(ESP32_EFUSE_BASE + 4 * word);
    const { description, major, minor, features } = describeEsp32(await efuse(3), await efuse(5), await read(ESP32_APB_CTL_DATE));
    return { description, major, minor, features };
  },
  romBaudArgument: esp32RomBaudArgument,
};
