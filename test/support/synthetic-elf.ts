/**
 * Builds a small little-endian ELF32 for the Xtensa (EM_XTENSA 94), the ESP32 app's format: .symtab with function
 * symbols and a DWARF 2 .debug_line program of (address, line) rows in one file. Used where no real ESP32 ELF is
 * at hand: the parser's 32-bit paths and Xtensa addresses are tested through this, and through a real one only when
 * ESPLAB_XTENSA_ELF names it.
 */
export interface SyntheticFunction { name: string; address: number; size: number }
export interface SyntheticElf { functions: SyntheticFunction[]; dir: string; file: string; rows: Array<{ address: number; line: number }>; end: number }

const text = (s: string) => [...new TextEncoder().encode(s), 0];
const u16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];
const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
}
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(byte & 0x40)) || (n === -1 && byte & 0x40)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

function debugLine(spec: SyntheticElf): number[] {
  const opcodeBase = 13;
  const header = [1, 1, (-5) & 0xff, 14, opcodeBase, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1, ...text(spec.dir), 0, ...text(spec.file), 1, 0, 0, 0];
  const program: number[] = [];
  let address = 0, line = 1;
  for (const row of spec.rows) {
    if (address === 0) program.push(0, 5, 2, ...u32(row.address));
    else program.push(2, ...uleb(row.address - address));
    address = row.address;
    program.push(3, ...sleb(row.line - line), 1); // advance_line, copy
    line = row.line;
  }
  program.push(2, ...uleb(spec.end - address), 0, 1, 1); // advance to the end, end_sequence
  const body = [...u16(2), ...u32(header.length), ...header, ...program];
  return [...u32(body.length), ...body];
}

export function syntheticXtensaElf(spec: SyntheticElf): Uint8Array {
  const strtab = [0];
  const symtab = new Array(16).fill(0);
  for (const fn of spec.functions) {
    const name = strtab.length;
    strtab.push(...text(fn.name));
    symtab.push(...u32(name), ...u32(fn.address), ...u32(fn.size), 0x12, 0, ...u16(1)); // STB_GLOBAL | STT_FUNC
  }
  const shstrtab = [0];
  const names = [".text", ".symtab", ".strtab", ".debug_line", ".shstrtab"].map((n) => { const at = shstrtab.length; shstrtab.push(...text(n)); return at; });
  const sections = [[] as number[], [], symtab, strtab, debugLine(spec), shstrtab];
  const types = [0, 8, 2, 3, 1, 3];
  let offset = 52;
  const placed = sections.map((data) => { const at = offset; offset += data.length; return at; });
  const shoff = offset;
  const header = [0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0, ...new Array(8).fill(0), ...u16(1), ...u16(94), ...u32(1), ...u32(spec.functions[0]?.address ?? 0), ...u32(0), ...u32(shoff), ...u32(0), ...u16(52), ...u16(0), ...u16(0), ...u16(40), ...u16(sections.length), ...u16(5)];
  const headers = sections.flatMap((data, i) => i === 0 ? new Array(40).fill(0) : [
    ...u32(names[i - 1]!), ...u32(types[i]!), ...u32(i === 1 ? 6 : 0), ...u32(i === 1 ? 0x400d0000 : 0), ...u32(placed[i]!), ...u32(i === 1 ? 0x10000 : data.length),
    ...u32(i === 2 ? 3 : 0), ...u32(0), ...u32(1), ...u32(i === 2 ? 16 : 0),
  ]);
  return Uint8Array.from([...header, ...sections.flat(), ...headers]);
}
