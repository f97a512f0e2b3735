import type { ChipFamily, ChipName } from "../chips/chip-family.ts";
import { ESP32, ESP32_APB_CTL_DATE, ESP32_EFUSE_BASE, ESP32_RTC_CALI_CFG1 } from "../chips/esp32.ts";
import { ESP32C3 } from "../chips/esp32c3.ts";
import { ESP32C6 } from "../chips/esp32c6.ts";
import { ESP32S2 } from "../chips/esp32s2.ts";
import { ESP32S3 } from "../chips/esp32s3.ts";

/**
 * One sample of each chip as its ROM presents it in download mode: the words at power-on (eFuses with MAC,
 * package and revision; what the ROM's baud and crystal code reads), its GET_SECURITY_INFO reply and boot messages.
 * The samples are common parts with nothing burned beyond the factory fields: an ESP32-D0WD-V3 v3.0, an ESP32-S2
 * v0.0, an ESP32-S3 (QFN56) v0.2, an ESP32-C3 (QFN32) v0.4 and an ESP32-C6 (QFN40) v0.1.
 */
export interface ChipProfile {
  family: ChipFamily;
  /** What this sample's ROM returns at the chip-magic address. */
  magic: number;
  /** Station MAC: Espressif's OUI. */
  defaultMac: Uint8Array;
  /** Register and eFuse words at power-on. */
  words(mac: Uint8Array): Map<number, number>;
  /** GET_SECURITY_INFO's reply (nothing burned), or undefined where the ROM lacks the command. */
  securityInfo: Uint8Array | undefined;
  /** UART_CLKDIV: the ROM's baud divider, read by esptool to tell the crystal. */
  uartClockDivider: number;
  /** The ROM's first line after a reset. */
  romBanner: string;
  /** What a reset prints, by where it ends up. */
  bootReasons: { app: string; download: string };
}

const XTAL_HZ = 40_000_000;

/** MAC bytes 2..5 in one word and bytes 0..1 in the low half of the next (eFuse layout on every chip here). */
function macWords(mac: Uint8Array): [number, number] {
  return [((mac[2]! << 24) | (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!) >>> 0, (mac[0]! << 8) | mac[1]!];
}

/** The eFuse MAC CRC (CRC-8, polynomial 0x07 reflected as 0x8C, as ESP-IDF's esp_crc8). */
function crc8(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >> 1) ^ 0x8c : crc >> 1;
  }
  return crc;
}

const ESP32_CK8M_FREQ = 100;

/** The RTCCALICFG1 calibration value with which the ESP32's ROM estimates its crystal at `estimateHz`. */
export function esp32Calibration(estimateHz: number): number {
  return Math.round((estimateHz * 40) / 15625 / ESP32_CK8M_FREQ);
}

/** The crystal frequency the ESP32's ROM estimates from its calibration words (what its UART divider is set from). */
export function esp32RomCrystalEstimate(read: (address: number) => number): number {
  return (((read(ESP32_RTC_CALI_CFG1) >>> 7) & 0x1ffffff) * 15625 * (read(ESP32_EFUSE_BASE + 16) & 0xff)) / 40;
}

const esp32Profile: ChipProfile = {
  family: ESP32,
  magic: 0x00f01d83,
  defaultMac: Uint8Array.from([0x24, 0x0a, 0xc4, 0x5e, 0x1a, 0xb0]),
  words(mac) {
    const words = new Map<number, number>();
    const efuse = (word: number, value: number) => words.set(ESP32_EFUSE_BASE + 4 * word, value >>> 0);
    const [low, high] = macWords(mac);
    // eFuse word 1 holds MAC bytes 2..5, word 2 bytes 0..1 under an 8-bit CRC.
    efuse(1, low);
    efuse(2, (crc8(mac) << 16) | high);
    // Word 3: revision bit 0 (bit 15), package 1 = D0WD (bits 9..11), CPU frequency rated (bit 13). Word 5: revision
    // bit 1 (bit 20). Word 6: CONSOLE_DEBUG_DISABLE (bit 2), coding scheme NONE — as espefuse's sample summary of an
    // ESP32-D0WD-V3 (docs/en/espefuse/inc/summary_ESP32.rst); the other words and blocks 1..3 are unburned (0).
    efuse(3, (1 << 15) | (1 << 13) | (1 << 9));
    efuse(5, 1 << 20);
    efuse(6, 1 << 2);
    // esptool's ROM-mode baud change estimates the crystal as the ROM did, cali * 15625 * CK8M_FREQ / 40 Hz, from
    // RTCCALICFG1 (bits 7..31; esptool targets/esp32.py) and eFuse word 4 bits 0..7. 1024 * 100 gives exactly
    // 40 MHz, so the baud it asks for is the baud the simulated ROM sets; a zero here made it ask for 0.
    // ADC_VREF (word 4 bits 8..12) stays 0 (1100 mV).
    efuse(4, ESP32_CK8M_FREQ);
    words.set(ESP32_RTC_CALI_CFG1, esp32Calibration(XTAL_HZ) << 7);
    words.set(ESP32_APB_CTL_DATE, (0x80000000 | 0x16042000) >>> 0);
    return words;
  },
  securityInfo: undefined,
  uartClockDivider: 0x3ff40014,
  romBanner: "ets Jul 29 2019 12:21:46",
  bootReasons: { app: "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)", download: "rst:0x3 (SW_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download" },
};

/** A later chip: MAC in BLOCK1 words 0 and 1, chip fields in BLOCK1 words 3..5. */
function laterProfile(family: ChipFamily, options: { magic: number; mac: number[]; block1: Record<number, number>; securityInfo: "short" | "full"; uartClockDivider: number; rom: string }): ChipProfile {
  return {
    family,
    magic: options.magic,
    defaultMac: Uint8Array.from(options.mac),
    words(mac) {
      const words = new Map<number, number>();
      const [low, high] = macWords(mac);
      words.set(family.macRegister, low);
      words.set(family.macRegister + 4, high);
      for (const [word, value] of Object.entries(options.block1)) words.set(family.macRegister + 4 * Number(word), value >>> 0);
      return words;
    },
    // flags (4), flash_crypt_cnt (1), 7 key purposes; then chip id and ECO version (4 each) where the ROM has them.
    securityInfo: options.securityInfo === "short" ? new Uint8Array(12) : Uint8Array.from([...new Array(12).fill(0), family.imageChipId, 0, 0, 0, 0, 0, 0, 0]),
    uartClockDivider: options.uartClockDivider,
    romBanner: `ESP-ROM:${options.rom}`,
    bootReasons: { app: "rst:0x1 (POWERON),boot:0x8 (SPI_FAST_FLASH_BOOT)", download: "rst:0x3 (RTC_SW_SYS_RST),boot:0x0 (DOWNLOAD(USB/UART0))\r\nwaiting for download" },
  };
}

const PROFILES: Record<ChipName, ChipProfile> = {
  esp32: esp32Profile,
  // v0.0, no embedded flash or PSRAM: BLOCK1 words 3 and 4 zero.
  esp32s2: laterProfile(ESP32S2, { magic: 0x000007c6, mac: [0x7c, 0xdf, 0xa1, 0x00, 0x2c, 0x10], block1: {}, securityInfo: "short", uartClockDivider: 0x3f400014, rom: "esp32s2-rc4-20191025" }),
  // v0.2: minor revision bits 18..20 of word 3.
  esp32s3: laterProfile(ESP32S3, { magic: 0x00000009, mac: [0xf4, 0x12, 0xfa, 0x40, 0x3b, 0x21], block1: { 3: 2 << 18 }, securityInfo: "full", uartClockDivider: 0x60000014, rom: "esp32s3-20210327" }),
  // v0.4 (ECO4): minor bits 18..20 of word 3; its magic value is the ECO3-and-later one.
  esp32c3: laterProfile(ESP32C3, { magic: 0x1b31506f, mac: [0x34, 0x85, 0x18, 0x7a, 0x5c, 0x04], block1: { 3: 4 << 18 }, securityInfo: "full", uartClockDivider: 0x60000014, rom: "esp32c3-api1-20210207" }),
  // v0.1: minor bits 18..21 of word 3.
  esp32c6: laterProfile(ESP32C6, { magic: 0x2ce0806f, mac: [0x40, 0x4c, 0xca, 0x51, 0x0e, 0x88], block1: { 3: 1 << 18 }, securityInfo: "full", uartClockDivider: 0x60000014, rom: "esp32c6-20220919" }),
};

export function chipProfile(name: ChipName): ChipProfile {
  return PROFILES[name];
}
