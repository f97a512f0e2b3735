import { ByteReader, ElfError, stringAt } from "./byte-reader.ts";

/**
 * An ELF file's sections and function symbols, 32- or 64-bit little-endian (the ESP32's Xtensa ELFs are ELF32;
 * the host's gcc makes ELF64). Layout from the System V ABI's ELF chapter (e_ident, Elf32/Elf64_Shdr, Elf_Sym).
 * Throws only ElfError.
 */
export interface ElfSection { name: string; type: number; address: number; offset: number; size: number; link: number; entrySize: number }
export interface ElfSymbol { name: string; address: number; size: number }

const SHT_SYMTAB = 2, SHT_NOBITS = 8;
const STT_FUNC = 2;
export const EM_XTENSA = 94;

export class ElfFile {
  readonly bits: 32 | 64;
  readonly machine: number;
  readonly sections: ElfSection[];
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    const r = new ByteReader(bytes, "ELF header");
    const magic = r.bytes(4);
    if (magic[0] !== 0x7f || magic[1] !== 0x45 || magic[2] !== 0x4c || magic[3] !== 0x46) throw new ElfError("not-elf", "not an ELF file: it does not start with 0x7f 'ELF'; pass the .elf from the build (build/<project>.elf), not the .bin");
    const elfClass = r.u8(), data = r.u8();
    if (elfClass !== 1 && elfClass !== 2) throw new ElfError("bad-class", `ELF class ${elfClass} is neither 32-bit (1) nor 64-bit (2)`);
    if (data !== 1) throw new ElfError("big-endian", "this ELF is big-endian; the ESP32 and this reader are little-endian");
    this.bits = elfClass === 1 ? 32 : 64;
    r.offset = 0x12;
    this.machine = r.u16();
    const word = () => (this.bits === 32 ? r.u32() : r.u64());
    r.offset = this.bits === 32 ? 0x20 : 0x28;
    const shoff = word();
    r.offset = this.bits === 32 ? 0x2e : 0x3a;
    const shentsize = r.u16(), shnum = r.u16(), shstrndx = r.u16();
    const minimum = this.bits === 32 ? 40 : 64;
    if (shnum > 0 && shentsize < minimum) throw new ElfError("bad-section-header", `section headers are ${shentsize} bytes, less than the ${minimum} an ELF${this.bits} needs`);
    if (shoff + shnum * shentsize > bytes.length) throw new ElfError("truncated", `the ${shnum} section headers at offset ${shoff} run past the ${bytes.length}-byte file; the ELF is incomplete`);
    const raw = Array.from({ length: shnum }, (_, i) => this.#sectionHeader(shoff + i * shentsize));
    const names = raw[shstrndx] ? this.#contents(raw[shstrndx]) : new Uint8Array();
    this.sections = raw.map((s) => ({ ...s, name: s.nameOffset === 0 || names.length === 0 ? "" : stringAt(names, s.nameOffset, "section names") }));
  }

  #sectionHeader(at: number): Omit<ElfSection, "name"> & { nameOffset: number } {
    const r = new ByteReader(this.#bytes, "section header", at);
    const word = () => (this.bits === 32 ? r.u32() : r.u64());
    const nameOffset = r.u32(), type = r.u32();
    word(); // flags
    const address = word(), offset = word(), size = word(), link = r.u32();
    r.u32(); // info
    word(); // alignment
    return { nameOffset, type, address, offset, size, link, entrySize: word() };
  }

  #contents(section: Omit<ElfSection, "name">): Uint8Array {
    if (section.type === SHT_NOBITS) return new Uint8Array();
    if (section.offset + section.size > this.#bytes.length) throw new ElfError("truncated", `a section at offset ${section.offset} of ${section.size} bytes runs past the ${this.#bytes.length}-byte file; the ELF is incomplete`);
    return this.#bytes.subarray(section.offset, section.offset + section.size);
  }

  section(name: string): Uint8Array | undefined {
    const section = this.sections.find((s) => s.name === name);
    return section && this.#contents(section);
  }

  /** Function symbols of .symtab, sorted by address (a stripped ELF has none). */
  functions(): ElfSymbol[] {
    const table = this.sections.find((s) => s.type === SHT_SYMTAB);
    if (!table) return [];
    const strings = this.sections[table.link] ? this.#contents(this.sections[table.link]!) : new Uint8Array();
    const entrySize = this.bits === 32 ? 16 : 24;
    const data = this.#contents(table);
    const out: ElfSymbol[] = [];
    for (let at = 0; at + entrySize <= data.length; at += entrySize) {
      const r = new ByteReader(data, "symbol table", at);
      const nameOffset = r.u32();
      let address: number, size: number, info: number;
      if (this.bits === 32) {
        address = r.u32(); size = r.u32(); info = r.u8();
      } else {
        info = r.u8(); r.skip(3); address = r.u64(); size = r.u64();
      }
      if ((info & 0xf) !== STT_FUNC || address === 0) continue;
      out.push({ name: stringAt(strings, nameOffset, "symbol names"), address, size });
    }
    return out.sort((a, b) => a.address - b.address);
  }
}
