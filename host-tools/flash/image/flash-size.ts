/**
 * Flash sizes: what the JEDEC id's capacity byte says (detection) and how the image header stores a size.
 * Both tables are esptool's: cmds.py DETECTED_FLASH_SIZES / DETECTED_FLASH_SIZES_ADESTO (and _get_flash_info for
 * which byte holds the size), targets/esp32.py FLASH_SIZES for the header's high nibble of byte 3.
 */

const KB = 1024;
const MB = 1024 * 1024;

/** RDID (0x9F) answers manufacturer, memory type, capacity; read back little-endian, so the capacity is bits 16..23. */
const DETECTED: Record<number, number> = {
  0x12: 256 * KB, 0x13: 512 * KB, 0x14: 1 * MB, 0x15: 2 * MB, 0x16: 4 * MB, 0x17: 8 * MB, 0x18: 16 * MB,
  0x19: 32 * MB, 0x1a: 64 * MB, 0x1b: 128 * MB, 0x1c: 256 * MB, 0x20: 64 * MB, 0x21: 128 * MB, 0x22: 256 * MB,
  0x32: 256 * KB, 0x33: 512 * KB, 0x34: 1 * MB, 0x35: 2 * MB, 0x36: 4 * MB, 0x37: 8 * MB, 0x38: 16 * MB,
  0x39: 32 * MB, 0x3a: 64 * MB,
};
/** Adesto (manufacturer 0x1F) puts the size in the low 5 bits of the second byte instead. */
const ADESTO_VENDOR = 0x1f;
const DETECTED_ADESTO: Record<number, number> = { 0x04: 512 * KB, 0x05: 1 * MB, 0x06: 2 * MB, 0x07: 4 * MB, 0x08: 8 * MB, 0x09: 16 * MB };

/** The flash size a JEDEC id names, in bytes, or undefined when esptool would not recognise it either. */
export function flashSizeFromId(flashId: number): number | undefined {
  if ((flashId & 0xff) === ADESTO_VENDOR) return DETECTED_ADESTO[(flashId >> 8) & 0x1f];
  return DETECTED[(flashId >> 16) & 0xff];
}

/** The ESP32 image header's size codes (byte 3, high nibble). */
export const HEADER_SIZES = {
  "1MB": 0x00, "2MB": 0x10, "4MB": 0x20, "8MB": 0x30, "16MB": 0x40, "32MB": 0x50, "64MB": 0x60, "128MB": 0x70,
} as const;
export type HeaderSizeName = keyof typeof HEADER_SIZES;
export const HEADER_SIZE_NAMES = Object.keys(HEADER_SIZES) as HeaderSizeName[];

export function sizeName(bytes: number): string {
  return bytes >= MB ? `${bytes / MB}MB` : `${bytes / KB}KB`;
}

export function bytesOfSizeName(name: HeaderSizeName): number {
  return Number.parseInt(name, 10) * MB;
}

/** The header name for a detected size, when the header can say it (256 KB and 512 KB flashes cannot). */
export function headerSizeFor(bytes: number): HeaderSizeName | undefined {
  return HEADER_SIZE_NAMES.find((name) => bytesOfSizeName(name) === bytes);
}
