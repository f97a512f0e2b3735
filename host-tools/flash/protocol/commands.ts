/** Opcodes of the ESP32 serial download protocol (ROM loader and flasher stub). */
export const Op = {
  FLASH_BEGIN: 0x02,
  FLASH_DATA: 0x03,
  FLASH_END: 0x04,
  MEM_BEGIN: 0x05,
  MEM_END: 0x06,
  MEM_DATA: 0x07,
  SYNC: 0x08,
  WRITE_REG: 0x09,
  READ_REG: 0x0a,
  SPI_SET_PARAMS: 0x0b,
  SPI_ATTACH: 0x0d,
  READ_FLASH_SLOW: 0x0e,
  CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10,
  FLASH_DEFL_DATA: 0x11,
  FLASH_DEFL_END: 0x12,
  SPI_FLASH_MD5: 0x13,
  GET_SECURITY_INFO: 0x14,
  ERASE_FLASH: 0xd0,
  ERASE_REGION: 0xd1,
  READ_FLASH: 0xd2,
  RUN_USER_CODE: 0xd3,
} as const;

export type OpName = keyof typeof Op;

const NAMES = new Map<number, string>(Object.entries(Op).map(([name, op]) => [op, name]));

export function opName(op: number): string {
  return NAMES.get(op) ?? `0x${op.toString(16).padStart(2, "0")}`;
}

/** SYNC's payload: 07 07 12 20 then 32 × 0x55, which lets the ROM measure the baud rate. */
export const SYNC_PAYLOAD = Uint8Array.from([0x07, 0x07, 0x12, 0x20, ...new Array<number>(32).fill(0x55)]);

/** The seed of the XOR checksum over MEM_DATA / FLASH_DATA / FLASH_DEFL_DATA payloads. */
export const CHECKSUM_SEED = 0xef;

export function dataChecksum(data: Uint8Array): number {
  let sum = CHECKSUM_SEED;
  for (const byte of data) sum ^= byte;
  return sum;
}

/** Why the chip refused a command: ROM codes 0x05–0x0B, stub codes 0xC0–0xCF, 0xFF. */
const STATUS_REASONS: Record<number, string> = {
  0x05: "the chip received an invalid message (bad length or parameters)",
  0x06: "the chip failed to act on the message",
  0x07: "the chip saw a bad checksum (bytes were corrupted on the way)",
  0x08: "flash write failed (read-back did not match)",
  0x09: "flash read failed",
  0x0a: "flash read length error",
  0x0b: "deflate (decompression) error",
  0xc0: "bad data length",
  0xc1: "bad data checksum (bytes were corrupted on the way)",
  0xc2: "bad block size",
  0xc3: "invalid command",
  0xc4: "SPI flash operation failed",
  0xc5: "SPI flash unlock failed",
  0xc6: "the chip is not in flash mode (FLASH_BEGIN missing)",
  0xc7: "inflate (decompression) error",
  0xc8: "not enough data for the announced size",
  0xc9: "more data than the announced size",
  0xff: "command not implemented",
};

export function explainStatus(code: number): string {
  return STATUS_REASONS[code] ?? `unknown error 0x${code.toString(16)}`;
}

/** Codes a command can be retried after (the bytes were damaged in transit). */
export const TRANSIENT_STATUS = new Set([0x05, 0x07, 0xc0, 0xc1]);
