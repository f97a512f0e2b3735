import { ByteReader, ElfError, stringAt } from "./byte-reader.ts";

/**
 * The line-number programs of .debug_line (DWARF 2 to 5) run into address ranges, each with its source file and line.
 * Header layouts, standard/extended opcodes and DWARF 5's entry formats from the DWARF 5 standard, section 6.2
 * (6.2.4 the header, 6.2.5 the opcodes; DW_LNCT_* and DW_FORM_* codes from its section 7). Throws only ElfError.
 */
export interface LineRange { start: number; end: number; file: string; line: number }
export interface LineSections { line: Uint8Array; lineStr?: Uint8Array; str?: Uint8Array }

const DW_LNS = { copy: 1, advancePc: 2, advanceLine: 3, setFile: 4, setColumn: 5, negateStmt: 6, setBasicBlock: 7, constAddPc: 8, fixedAdvancePc: 9 } as const;
const DW_LNE = { endSequence: 1, setAddress: 2, defineFile: 3 } as const;
const DW_LNCT_PATH = 1, DW_LNCT_DIRECTORY_INDEX = 2;
const FORM = { block: 0x09, data1: 0x0b, data2: 0x05, data4: 0x06, data8: 0x07, data16: 0x1e, string: 0x08, strp: 0x0e, lineStrp: 0x1f, udata: 0x0f } as const;

export function parseDebugLine(sections: LineSections): LineRange[] {
  const ranges: LineRange[] = [];
  const r = new ByteReader(sections.line, ".debug_line");
  while (r.offset < r.length) {
    let unitLength = r.u32();
    const offsetSize = unitLength === 0xffffffff ? 8 : 4;
    if (offsetSize === 8) unitLength = r.u64();
    else if (unitLength >= 0xfffffff0) throw new ElfError("bad-line-unit", `.debug_line: reserved unit length 0x${unitLength.toString(16)} at offset ${r.offset - 4}`);
    const unitEnd = r.offset + unitLength;
    if (unitEnd > r.length) throw new ElfError("truncated", `.debug_line: a unit of ${unitLength} bytes at offset ${r.offset} runs past the section's ${r.length} bytes`);
    parseUnit(new ByteReader(sections.line.subarray(0, unitEnd), ".debug_line", r.offset), offsetSize, sections, ranges);
    r.offset = unitEnd;
  }
  return ranges.sort((a, b) => a.start - b.start);
}

function parseUnit(r: ByteReader, offsetSize: number, sections: LineSections, ranges: LineRange[]): void {
  const version = r.u16();
  if (version < 2 || version > 5) throw new ElfError("bad-line-version", `.debug_line: version ${version} at offset ${r.offset - 2}; DWARF 2 to 5 are read`);
  let addressSize = 0;
  if (version >= 5) {
    addressSize = r.u8();
    r.u8(); // segment selector size
  }
  const headerLength = r.uint(offsetSize);
  const programStart = r.offset + headerLength;
  const minInstruction = r.u8();
  if (version >= 4) r.u8(); // maximum operations per instruction (VLIW only; 1 on Xtensa and x86)
  const defaultIsStmt = r.u8() !== 0;
  const lineBase = r.i8();
  const lineRange = r.u8();
  const opcodeBase = r.u8();
  if (lineRange === 0) throw new ElfError("bad-line-header", `.debug_line: line_range 0 at offset ${r.offset - 2} (it divides every special opcode)`);
  const argCounts = [0];
  for (let i = 1; i < opcodeBase; i++) argCounts.push(r.u8());
  const files = version >= 5 ? filesV5(r, offsetSize, sections) : filesV2(r);
  r.offset = programStart;

  let address = 0, file = version >= 5 ? 0 : 1, line = 1, rowStart: { address: number; file: number; line: number } | undefined;
  void defaultIsStmt;
  const emit = () => {
    if (rowStart && address > rowStart.address) ranges.push({ start: rowStart.address, end: address, file: files[rowStart.file] ?? "??", line: rowStart.line });
    rowStart = { address, file, line };
  };
  while (r.offset < r.length) {
    const opcode = r.u8();
    if (opcode >= opcodeBase) {
      const adjusted = opcode - opcodeBase;
      address += Math.floor(adjusted / lineRange) * minInstruction;
      line += lineBase + (adjusted % lineRange);
      emit();
    } else if (opcode === 0) {
      const length = r.uleb();
      const end = r.offset + length;
      const sub = length > 0 ? r.u8() : 0;
      if (sub === DW_LNE.endSequence) {
        emit();
        rowStart = undefined;
        address = 0; file = version >= 5 ? 0 : 1; line = 1;
      } else if (sub === DW_LNE.setAddress) {
        address = r.uint(addressSize || length - 1);
      } else if (sub === DW_LNE.defineFile) {
        files.push(r.cstring());
      }
      r.offset = end; // skips the operands of set_discriminator and of anything vendor-defined
    } else if (opcode === DW_LNS.copy) emit();
    else if (opcode === DW_LNS.advancePc) address += r.uleb() * minInstruction;
    else if (opcode === DW_LNS.advanceLine) line += r.sleb();
    else if (opcode === DW_LNS.setFile) file = r.uleb();
    else if (opcode === DW_LNS.constAddPc) address += Math.floor((255 - opcodeBase) / lineRange) * minInstruction;
    else if (opcode === DW_LNS.fixedAdvancePc) address += r.u16();
    else if (opcode === DW_LNS.setColumn || opcode === DW_LNS.negateStmt || opcode === DW_LNS.setBasicBlock) {
      if (opcode === DW_LNS.setColumn) r.uleb();
    } else for (let i = 0; i < argCounts[opcode]!; i++) r.uleb(); // opcodes newer than this reader: skip their operands
  }
}

/** DWARF 2–4: include_directories then file_names, each list ended by an empty string; file 1 is the first. */
function filesV2(r: ByteReader): string[] {
  const dirs = [""];
  for (let dir = r.cstring(); dir !== ""; dir = r.cstring()) dirs.push(dir);
  const files = [""];
  for (let name = r.cstring(); name !== ""; name = r.cstring()) {
    const dir = r.uleb();
    r.uleb(); r.uleb(); // modification time, length
    files.push(join(dirs[dir] ?? "", name));
  }
  return files;
}

/** DWARF 5: directories and files described by (content type, form) pairs; file 0 is the primary source. */
function filesV5(r: ByteReader, offsetSize: number, sections: LineSections): string[] {
  const readEntries = () => {
    const formats: Array<[number, number]> = [];
    const formatCount = r.u8();
    for (let i = 0; i < formatCount; i++) formats.push([r.uleb(), r.uleb()]);
    const count = r.uleb();
    const entries: Array<{ path: string; dir: number }> = [];
    for (let i = 0; i < count; i++) {
      const entry = { path: "", dir: 0 };
      for (const [content, form] of formats) {
        const value = readForm(r, form, offsetSize, sections);
        if (content === DW_LNCT_PATH) entry.path = String(value);
        else if (content === DW_LNCT_DIRECTORY_INDEX) entry.dir = Number(value);
      }
      entries.push(entry);
    }
    return entries;
  };
  const dirs = readEntries().map((e) => e.path);
  return readEntries().map((e) => join(dirs[e.dir] ?? "", e.path));
}

function readForm(r: ByteReader, form: number, offsetSize: number, sections: LineSections): string | number {
  switch (form) {
    case FORM.string: return r.cstring();
    case FORM.lineStrp: return stringAt(sections.lineStr ?? new Uint8Array(), r.uint(offsetSize), ".debug_line_str");
    case FORM.strp: return stringAt(sections.str ?? new Uint8Array(), r.uint(offsetSize), ".debug_str");
    case FORM.udata: return r.uleb();
    case FORM.data1: return r.u8();
    case FORM.data2: return r.u16();
    case FORM.data4: return r.u32();
    case FORM.data8: return r.u64();
    case FORM.data16: return (r.skip(16), 0);
    case FORM.block: return (r.skip(r.uleb()), 0);
    default: throw new ElfError("bad-line-form", `.debug_line: form 0x${form.toString(16)} in a DWARF 5 file entry is not one the standard allows there`);
  }
}

const join = (dir: string, name: string) => (dir === "" || name.startsWith("/") ? name : `${dir}/${name}`);
