import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatFrame, parseBacktrace } from "../../../../host-tools/flash/monitor/backtrace.ts";

describe("ESP-IDF backtrace lines", () => {
  it("reads the PC:SP pairs and the end markers", () => {
    expect(parseBacktrace("Backtrace: 0x400d1234:0x3ffb1230 0x400d5678:0x3ffb1250")).toEqual({ frames: [{ pc: 0x400d1234, sp: 0x3ffb1230 }, { pc: 0x400d5678, sp: 0x3ffb1250 }], corrupted: false, continues: false });
    const corrupted = parseBacktrace("\x1b[0;31mBacktrace: 0x40085cd7:0x3ffb47e0 0x40085b84:0x3ffb47f0 0x0006001e:0xa5a5a5a5 |<-CORRUPTED");
    expect(corrupted?.frames).toHaveLength(3);
    expect(corrupted?.corrupted).toBe(true);
    expect(parseBacktrace("Backtrace:0x4008354d:0x3fff1090 |<-CONTINUES")).toMatchObject({ frames: [{ pc: 0x4008354d }], continues: true });
  });

  it("leaves other lines alone", () => {
    expect(parseBacktrace("I (31) boot: ESP-IDF v4.4 2nd stage bootloader")).toBeUndefined();
    expect(parseBacktrace("Backtrace: (none)")).toBeUndefined();
    expect(parseBacktrace("PC      : 0x400d1234  PS      : 0x00060030")).toBeUndefined();
  });

  it("prints each frame as idf.py monitor does", () => {
    expect(formatFrame({ address: 0x400d1234, function: "app_main", file: "/p/main/main.c", line: 12 })).toBe("0x400d1234: app_main at /p/main/main.c:12");
    expect(formatFrame({ address: 0x40081234 })).toMatch(/^0x40081234: \?\? \(not in the ELF/);
  });

  it("finds every generated frame in any surrounding text, and never throws on any text", () => {
    const frame = fc.record({ pc: fc.integer({ min: 0, max: 0xffffffff }), sp: fc.integer({ min: 0, max: 0xffffffff }) });
    fc.assert(fc.property(fc.string(), fc.array(frame, { minLength: 1, maxLength: 40 }), fc.constantFrom("", " |<-CORRUPTED", " |<-CONTINUES"), (prefix, frames, end) => {
      const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;
      const line = `${prefix.replace(/Backtrace:/g, "")}Backtrace: ${frames.map((f) => `${hex(f.pc)}:${hex(f.sp)}`).join(" ")}${end}`;
      const parsed = parseBacktrace(line)!;
      expect(parsed.frames).toEqual(frames);
      expect(parsed.corrupted).toBe(end.includes("CORRUPTED"));
    }));
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => void parseBacktrace(text)));
  });

  it("reads a line of 9000 pairs (the decoder's 16 KB line limit would split it first on a real console)", () => {
    expect(parseBacktrace(`Backtrace: ${"0x400d1234:0x3ffb1230 ".repeat(9000)}`)?.frames).toHaveLength(9000);
  });
});
