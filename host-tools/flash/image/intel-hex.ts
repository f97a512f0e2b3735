/**
 * Intel HEX output, as esptool's `merge-bin --format hex` writes it (through the intelhex package): data records of
 * up to 16 bytes that never cross a 64 KB boundary, an extended linear address record (type 04) whenever the upper
 * 16 address bits change, and the end-of-file record. Only the regions' own bytes are written, no 0xFF gaps.
 * Record layout and checksum: Arm's "Intel HEX file format" (knowledge article KA003292).
 */

const RECORD_BYTES = 16;
const DATA = 0x00, END_OF_FILE = 0x01, EXTENDED_LINEAR_ADDRESS = 0x04;

function record(type: number, address: number, data: ArrayLike<number>): string {
  const bytes = [data.length, (address >> 8) & 0xff, address & 0xff, type, ...Array.from(data)];
  const checksum = (0x100 - (bytes.reduce((sum, b) => sum + b, 0) & 0xff)) & 0xff;
  return ":" + [...bytes, checksum].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join("");
}

export function toIntelHex(regions: ReadonlyArray<{ address: number; data: Uint8Array }>): string {
  const lines: string[] = [];
  let upper = -1;
  for (const { address, data } of [...regions].sort((a, b) => a.address - b.address)) {
    let offset = 0;
    while (offset < data.length) {
      const at = address + offset;
      if (at >>> 16 !== upper) {
        upper = at >>> 16;
        lines.push(record(EXTENDED_LINEAR_ADDRESS, 0, [upper >> 8, upper & 0xff]));
      }
      const length = Math.min(RECORD_BYTES, data.length - offset, 0x10000 - (at & 0xffff));
      lines.push(record(DATA, at & 0xffff, data.subarray(offset, offset + length)));
      offset += length;
    }
  }
  lines.push(record(END_OF_FILE, 0, []));
  return lines.join("\n") + "\n";
}
