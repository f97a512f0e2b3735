/**
 * What esplab knows about each chip of the ESP32 family it flashes: how to recognise it in download mode, where its
 * registers and eFuses are, where its bootloader goes, and how its ROM loader differs. Values are esptool's
 * (esptool/targets/esp32*.py), checked against esptool-js's own tables by driving the simulator with esptool-js.
 */

export type ChipName = "esp32" | "esp32s2" | "esp32s3" | "esp32c3" | "esp32c6";

/** Reads one 32-bit register or eFuse word of the chip (READ_REG). */
export type ReadWord = (address: number) => Promise<number>;

export interface ChipDescription {
  /** As esptool prints it: "ESP32-S3 (QFN56) (revision v0.2)". */
  description: string;
  /** The chip revision, major.minor ("v3.0"). */
  major: number;
  minor: number;
  features: string[];
}

/** The SPI0/1 controller registers a RDID (flash id) read goes through, as absolute addresses. */
export interface SpiRegisters {
  cmd: number;
  usr: number;
  usr1: number;
  usr2: number;
  mosiLength: number;
  misoLength: number;
  w0: number;
}

/** The RTC watchdog and the super watchdog, which a ROM started over USB-Serial/JTAG leaves running. */
export interface WatchdogRegisters {
  wdtProtect: number;
  wdtConfig0: number;
  wdtKey: number;
  swdProtect: number;
  swdConfig: number;
  swdKey: number;
  swdAutoFeed: number;
}

export interface ChipFamily {
  name: ChipName;
  label: string;
  /** The chip id in an image's extended header, which GET_SECURITY_INFO also reports on chips that carry it. */
  imageChipId: number;
  /** Values of the word at CHIP_MAGIC_REGISTER in this chip's ROM (the way to tell chips apart before GET_SECURITY_INFO). */
  magicValues: readonly number[];
  /** GET_SECURITY_INFO: the ESP32's ROM lacks it, the ESP32-S2's reply has no chip id, later chips report one. */
  securityInfo: "none" | "without-chip-id" | "with-chip-id";
  /** Where the ROM looks for the second-stage bootloader. */
  bootloaderOffset: number;
  /** The eFuse word holding MAC bytes 2..5; the next word holds bytes 0..1 in its low half. */
  macRegister: number;
  spi: SpiRegisters;
  /** Its ROM's FLASH_BEGIN and FLASH_DEFL_BEGIN take a fifth word, 1 for an encrypted write (esptool SUPPORTS_ENCRYPTED_FLASH). */
  romBeginHasEncryptFlag: boolean;
  /** Header byte 3's low nibble per --flash-freq (the ESP32-C6 ROM reads 80m as 0x0). */
  flashFrequencies: Readonly<Record<string, number>>;
  /** On its native USB-OTG port (Espressif's vendor id 0x303a with this product id) the ROM takes 2 KB blocks at most. */
  usbOtgProductId?: number;
  /** Left running by the ROM on the USB-Serial/JTAG port; esptool disables them so the chip does not reset mid-write. */
  watchdogs?: WatchdogRegisters;
  describe(read: ReadWord): Promise<ChipDescription>;
  /** The CHANGE_BAUDRATE argument that gets `baud` from this chip's ROM loader, where the ROM does not set it exactly. */
  romBaudArgument?(read: ReadWord, baud: number): Promise<number>;
}

export const CHIP_MAGIC_REGISTER = 0x40001000;

/** The register layout the ESP32-S2 and every later chip share, from SPI_REG_BASE. */
export function laterSpiRegisters(base: number): SpiRegisters {
  return { cmd: base, usr: base + 0x18, usr1: base + 0x1c, usr2: base + 0x20, mosiLength: base + 0x24, misoLength: base + 0x28, w0: base + 0x58 };
}

/** esptool's FLASH_FREQUENCY table of the ESP32 (and of the S2, S3 and C3, which inherit it). */
export const ESP32_FLASH_FREQUENCIES = { "80m": 0xf, "40m": 0x0, "26m": 0x1, "20m": 0x2 } as const;

/** The MAC from its two eFuse words (the same layout on every chip here). */
export async function readMac(read: ReadWord, macRegister: number): Promise<string> {
  const low = await read(macRegister);
  const high = (await read(macRegister + 4)) & 0xffff;
  const bytes = [high >> 8, high & 0xff, low >>> 24, (low >> 16) & 0xff, (low >> 8) & 0xff, low & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** A field of an eFuse word. */
export const bits = (word: number, position: number, length: number) => (word >>> position) & ((1 << length) - 1);
