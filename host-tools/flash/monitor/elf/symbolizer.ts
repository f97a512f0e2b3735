import { parseDebugLine, type LineRange } from "./dwarf-line.ts";
import { ElfFile, type ElfSymbol } from "./elf-file.ts";

export interface Location { address: number; function?: string; offset?: number; file?: string; line?: number }

/** Address → function (from .symtab) and file:line (from .debug_line, when the ELF was built with -g). */
export class Symbolizer {
  readonly functions: ElfSymbol[];
  readonly lines: LineRange[];
  readonly machine: number;

  constructor(bytes: Uint8Array) {
    const elf = new ElfFile(bytes);
    this.machine = elf.machine;
    this.functions = elf.functions();
    const line = elf.section(".debug_line");
    this.lines = line ? parseDebugLine({ line, lineStr: elf.section(".debug_line_str"), str: elf.section(".debug_str") }) : [];
  }

  get hasLines(): boolean {
    return this.lines.length > 0;
  }

  lookup(address: number): Location {
    const location: Location = { address };
    const fn = lastAtOrBefore(this.functions, address, (s) => s.address);
    if (fn && (address < fn.address + fn.size || (fn.size === 0 && address === fn.address))) Object.assign(location, { function: fn.name, offset: address - fn.address });
    const range = lastAtOrBefore(this.lines, address, (r) => r.start);
    if (range && address < range.end) Object.assign(location, { file: range.file, line: range.line });
    return location;
  }
}

/** Binary search: the last item whose key is ≤ address (items sorted by key). */
function lastAtOrBefore<T>(items: T[], address: number, key: (item: T) => number): T | undefined {
  let low = 0, high = items.length - 1, found: T | undefined;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (key(items[mid]!) <= address) { found = items[mid]; low = mid + 1; } else high = mid - 1;
  }
  return found;
}
