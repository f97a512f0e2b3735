import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ElfError } from "../../../../../host-tools/flash/monitor/elf/byte-reader.ts";
import { EM_XTENSA } from "../../../../../host-tools/flash/monitor/elf/elf-file.ts";
import { Symbolizer } from "../../../../../host-tools/flash/monitor/elf/symbolizer.ts";
import { syntheticXtensaElf } from "../../../../support/synthetic-elf.ts";

const has = (tool: string) => {
  try {
    execFileSync(tool, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const hasGcc = has("gcc"), hasAddr2line = has("addr2line");

const SOURCE = `#include <stdio.h>
static int helper(int x) {
  int y = x * 3;
  return y + 1;
}
int compute(int n) {
  int total = 0;
  for (int i = 0; i < n; i++) total += helper(i);
  return total;
}
int main(void) {
  printf("%d\\n", compute(5));
  return 0;
}
`;

/** Only our own error type may come out of the parser, whatever the bytes. */
function parsesOrElfError(bytes: Uint8Array): void {
  try {
    new Symbolizer(bytes).lookup(0x1139);
  } catch (error) {
    if (!(error instanceof ElfError)) throw error;
  }
}

describe.skipIf(!hasGcc)("a real ELF built here with gcc -g", () => {
  let dir: string;
  const built: Record<string, Uint8Array> = {};
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "esplab-elf-"));
    writeFileSync(path.join(dir, "prog.c"), SOURCE);
    for (const dwarf of ["4", "5"]) {
      execFileSync("gcc", ["-g", `-gdwarf-${dwarf}`, "-O0", "-o", path.join(dir, `prog${dwarf}`), "prog.c"], { cwd: dir });
      built[dwarf] = new Uint8Array(readFileSync(path.join(dir, `prog${dwarf}`)));
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!hasAddr2line)("names the same function and file:line as binutils' addr2line at every byte of three functions (DWARF 4 and 5)", () => {
    for (const dwarf of ["4", "5"]) {
      const file = path.join(dir, `prog${dwarf}`);
      const symbolizer = new Symbolizer(built[dwarf]!);
      const addresses = symbolizer.functions.filter((f) => ["helper", "compute", "main"].includes(f.name)).flatMap((f) => Array.from({ length: f.size }, (_, i) => f.address + i));
      expect(addresses.length).toBeGreaterThan(60);
      const theirs = execFileSync("addr2line", ["-f", "-e", file, ...addresses.map((a) => `0x${a.toString(16)}`)]).toString().trim().split("\n");
      addresses.forEach((address, i) => {
        const ours = symbolizer.lookup(address);
        // DWARF 4 names files relative to the compilation directory, which lives in .debug_info: compare basenames.
        const want = `${theirs[2 * i]} ${path.basename(theirs[2 * i + 1]!.replace(/ \(discriminator \d+\)$/, ""))}`;
        expect(`${ours.function} ${path.basename(ours.file ?? "")}:${ours.line}`).toBe(want);
      });
    }
  });

  it("finds main's call to compute on line 12", () => {
    const symbolizer = new Symbolizer(built["5"]!);
    const main = symbolizer.functions.find((f) => f.name === "main")!;
    const lines = Array.from({ length: main.size }, (_, i) => symbolizer.lookup(main.address + i).line);
    expect(lines).toContain(12);
    expect(symbolizer.lookup(main.address + 4)).toMatchObject({ function: "main", file: path.join(dir, "prog.c") });
  });

  it("throws only ElfError for truncations and flipped bytes of the real file", () => {
    const elf = built["5"]!;
    fc.assert(fc.property(fc.integer({ min: 0, max: elf.length }), fc.array(fc.tuple(fc.nat(elf.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), (cut, flips) => {
      const bytes = elf.slice(0, Math.max(cut, 0));
      for (const [at, value] of flips) if (at < bytes.length) bytes[at] = value;
      parsesOrElfError(bytes);
    }), { numRuns: 300 });
  });
});

describe("ESP32 (Xtensa) addresses through a synthetic ELF32", () => {
  const spec = {
    functions: [{ name: "app_main", address: 0x400d1220, size: 0x30 }, { name: "blink_task", address: 0x400d1250, size: 0x20 }],
    dir: "/project/main", file: "main.c",
    rows: [{ address: 0x400d1220, line: 10 }, { address: 0x400d1230, line: 12 }, { address: 0x400d1250, line: 30 }, { address: 0x400d1260, line: 33 }],
    end: 0x400d1270,
  };
  const symbolizer = new Symbolizer(syntheticXtensaElf(spec));

  it("reads an ELF32 for EM_XTENSA with DWARF 2 line rows", () => {
    expect(symbolizer.machine).toBe(EM_XTENSA);
    expect(symbolizer.lookup(0x400d1234)).toEqual({ address: 0x400d1234, function: "app_main", offset: 0x14, file: "/project/main/main.c", line: 12 });
    expect(symbolizer.lookup(0x400d1263)).toMatchObject({ function: "blink_task", line: 33 });
    expect(symbolizer.lookup(0x40081234)).toEqual({ address: 0x40081234 }); // ROM or IRAM code the ELF does not have
    expect(symbolizer.lookup(0x400d1270)).toEqual({ address: 0x400d1270 }); // past the last function and line
  });

  it("says what is wrong with a file that is not an ELF, or a cut one", () => {
    expect(() => new Symbolizer(Uint8Array.from([0xe9, 0x03, 0x02, 0x20]))).toThrow(/not an ELF file.*pass the .elf from the build/);
    const elf = syntheticXtensaElf(spec);
    expect(() => new Symbolizer(elf.subarray(0, elf.length - 10))).toThrow(ElfError);
  });

  it("throws only ElfError for any bytes, and for any bytes behind a valid ELF header", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => parsesOrElfError(bytes)), { numRuns: 500 });
    const elf = syntheticXtensaElf(spec);
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(elf.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (flips) => {
      const bytes = elf.slice();
      for (const [at, value] of flips) bytes[at] = value;
      parsesOrElfError(bytes);
    }), { numRuns: 1000 });
  });

  it.skipIf(!process.env.ESPLAB_XTENSA_ELF)("a real ESP32 app ELF (ESPLAB_XTENSA_ELF) agrees with addr2line", () => {
    const file = process.env.ESPLAB_XTENSA_ELF!;
    const real = new Symbolizer(new Uint8Array(readFileSync(file)));
    expect(real.machine).toBe(EM_XTENSA);
    const picks = real.functions.filter((_, i) => i % 50 === 0).map((f) => f.address + Math.floor(f.size / 2));
    const theirs = execFileSync("addr2line", ["-f", "-e", file, ...picks.map((a) => `0x${a.toString(16)}`)]).toString().trim().split("\n");
    picks.forEach((address, i) => {
      const where = theirs[2 * i + 1]!;
      if (theirs[2 * i] === "??" || where.startsWith("??")) return; // addr2line knows no more there
      const ours = real.lookup(address);
      // addr2line names the innermost inlined function (from .debug_info); esplab names the symbol around the address.
      expect(ours.function).toBeDefined();
      expect(`${path.basename(ours.file ?? "")}:${ours.line}`).toBe(path.basename(where.replace(/ \(discriminator \d+\)$/, "")));
    });
  });
});
