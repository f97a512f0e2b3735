import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCsv, readRoster, RosterError } from "../../../host-tools/grade/roster.ts";

describe("a class roster", () => {
  it("reads CSV as RFC 4180 says: quotes, doubled quotes, CRLF, blank lines and a header", () => {
    expect(parseCsv('name,path\r\n"Lovelace, Ada",ada\n\n"say ""hi""",b\nlast,c').map((r) => r.row)).toEqual([["name", "path"], ["Lovelace, Ada", "ada"], ['say "hi"', "b"], ["last", "c"]]);
    expect(parseCsv('a,"two\nlines"\nb,c').map((r) => r.line)).toEqual([1, 3]);
    expect(() => parseCsv('a,"open\n', "class.csv")).toThrow(/class\.csv:1: a quoted field is never closed/);
  });

  it("takes a CSV of name,path (relative to it) or a folder of projects, and names a bad row", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-roster-"));
    try {
      fs.mkdirSync(path.join(dir, "class/ada"), { recursive: true });
      fs.mkdirSync(path.join(dir, "class/bob"));
      expect(readRoster(path.join(dir, "class"))).toEqual([{ name: "ada", dir: path.join(dir, "class/ada") }, { name: "bob", dir: path.join(dir, "class/bob") }]);
      fs.writeFileSync(path.join(dir, "class.csv"), "name,path\nAda,class/ada\n");
      expect(readRoster(path.join(dir, "class.csv"))).toEqual([{ name: "Ada", dir: path.join(dir, "class/ada") }]);
      fs.writeFileSync(path.join(dir, "bad.csv"), "Ada,class/ada\nBob\n");
      expect(() => readRoster(path.join(dir, "bad.csv"))).toThrow(/bad\.csv:2: a row is name,path \(got 1 field\)/);
      fs.writeFileSync(path.join(dir, "twice.csv"), "Ada,a\nAda,b\n");
      expect(() => readRoster(path.join(dir, "twice.csv"))).toThrow(/"Ada" appears twice/);
      expect(() => readRoster(path.join(dir, "none.csv"))).toThrow(RosterError);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives back what was written, for any fields (property), and fails on nothing but a RosterError", () => {
    const field = fc.string({ unit: fc.constantFrom("a", "b", ",", '"', "\n", "\r", " ", "é") });
    fc.assert(
      fc.property(fc.array(fc.array(field, { minLength: 1, maxLength: 4 }), { maxLength: 6 }), (rows) => {
        const quoted = rows.map((row) => row.map((cell) => `"${cell.replaceAll('"', '""')}"`).join(",")).join("\n");
        expect(parseCsv(quoted).map((r) => r.row)).toEqual(rows);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", ",", '"', "\n", "\r") }), (text) => {
        try {
          parseCsv(text);
        } catch (error) {
          if (!(error instanceof RosterError)) throw error;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
