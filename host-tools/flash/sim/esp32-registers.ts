/** Register addresses the loaders read or write on an ESP32 in download mode. */
const ESP32_REGISTERS = {
  chipMagic: 0x40001000,
  efuseBase: 0x3ff5a000,
  apbCtlDate: 0x3ff6607c,
  uartClockDivider: 0x3ff40014,
  spiBase: 0x3ff42000,
  /** RTC calibration result, bits 7..31 (esptool targets/esp32.py RTCCALICFG1, TIMERS_RTC_CALI_VALUE_S). */
  rtcCaliCfg1: 0x3ff5f06c,
} as const;

const ESP32_CHIP_MAGIC = 0x00f01d83;

const SPI = {
  cmd: ESP32_REGISTERS.spiBase + 0x00,
  usr2: ESP32_REGISTERS.spiBase + 0x24,
  w0: ESP32_REGISTERS.spiBase + 0x80,
} as const;
const SPI_CMD_USR = 1 << 18;
const SPIFLASH_RDID = 0x9f;
const XTAL_HZ = 40_000_000;
const CK8M_FREQ = 100;
const ROM_CALIBRATION = (XTAL_HZ * 40) / 15625 / CK8M_FREQ;

/**
 * The registers of a simulated ESP32-D0WD-V3 (revision 3, dual core, 40 MHz crystal): the chip-magic word, the
 * eFuse words that hold MAC, package and revision, and enough of the SPI controller for a JEDEC id read.
 */
export class Esp32Registers {
  readonly #values = new Map<number, number>();
  readonly #jedecId: number;
  readonly #baud: () => number;

  constructor(mac: Uint8Array, jedecId: number, baud: () => number, chipMagic = ESP32_CHIP_MAGIC) {
    this.#jedecId = jedecId;
    this.#baud = baud;
    const efuse = (word: number, value: number) => this.#values.set(ESP32_REGISTERS.efuseBase + 4 * word, value >>> 0);
    // eFuse word 1 holds MAC bytes 2..5, word 2 bytes 0..1 under an 8-bit CRC.
    efuse(1, (mac[2]! << 24) | (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!);
    efuse(2, (crc8(mac) << 16) | (mac[0]! << 8) | mac[1]!);
    // Word 3: revision bit 0 (bit 15), package 1 = D0WD (bits 9..11), CPU frequency rated (bit 13). Word 5: revision
    // bit 1 (bit 20). Word 6: CONSOLE_DEBUG_DISABLE (bit 2), coding scheme NONE — as espefuse's sample summary of an
    // ESP32-D0WD-V3 (docs/en/espefuse/inc/summary_ESP32.rst); the other words and blocks 1..3 are unburned (0).
    efuse(3, (1 << 15) | (1 << 13) | (1 << 9));
    efuse(5, 1 << 20);
    efuse(6, 1 << 2);
    // esptool's ROM-mode baud change estimates the crystal as the ROM did, cali * 15625 * CK8M_FREQ / 40 Hz, from
    // RTCCALICFG1 and eFuse word 4 bits 0..7 (esptool targets/esp32.py get_rom_cal_crystal_freq). 1024 * 100 gives
    // exactly 40 MHz, so the baud it asks for is the baud the simulated ROM sets; a zero here made it ask for 0.
    // ADC_VREF (word 4 bits 8..12) stays 0 (1100 mV): burned, esptool would list "Vref calibration in eFuse" among
    // the features, which esplab's chip description does not read.
    efuse(4, CK8M_FREQ);
    this.#values.set(ESP32_REGISTERS.rtcCaliCfg1, ROM_CALIBRATION << 7);
    this.#values.set(ESP32_REGISTERS.apbCtlDate, 0x80000000 | 0x16042000);
    this.#values.set(ESP32_REGISTERS.chipMagic, chipMagic);
  }

  read(address: number): number {
    if (address === ESP32_REGISTERS.uartClockDivider) return Math.round(XTAL_HZ / this.#baud());
    return this.#values.get(address) ?? 0;
  }

  write(address: number, value: number, mask: number): void {
    const old = this.#values.get(address) ?? 0;
    this.#values.set(address, ((old & ~mask) | (value & mask)) >>> 0);
    if (address === SPI.cmd && value & SPI_CMD_USR) this.#runSpiCommand();
  }

  /** The SPI controller "runs" the user command at once and clears the busy bit. */
  #runSpiCommand(): void {
    const command = (this.#values.get(SPI.usr2) ?? 0) & 0xffff;
    if (command === SPIFLASH_RDID) this.#values.set(SPI.w0, this.#jedecId);
    this.#values.set(SPI.cmd, (this.#values.get(SPI.cmd) ?? 0) & ~SPI_CMD_USR);
  }
}

/** The eFuse MAC CRC (CRC-8, polynomial 0x07 reflected as 0x8C, as ESP-IDF's esp_crc8). */
function crc8(mac: Uint8Array): number {
  let crc = 0;
  for (const byte of mac) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >> 1) ^ 0x8c : crc >> 1;
  }
  return crc;
}
