import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parsePartitionTable, formatPartitionTable, PartitionTableError } from "../../../../host-tools/flash/image/partition-table.ts";

const singleApp = new Uint8Array(readFileSync(new URL("../../../fixtures/esp32/partitions_singleapp.bin", import.meta.url)));

function withMd5AndEnd(entries: Uint8Array): Uint8Array {
  const md5 = new Uint8Array(32).fill(0xff);
  md5[0] = 0xeb; md5[1] = 0xeb;
  md5.set(createHash("md5").update(entries).digest(), 16);
  const out = new Uint8Array(entries.length + 64).fill(0xff);
  out.set(entries); out.set(md5, entries.length);
  return out;
}

describe("parsePartitionTable", () => {
  it("reads the single-app fixture (trimmed, no end marker) when allowed", () => {
    const table = parsePartitionTable(singleApp, { requireEndMarker: false });
    expect(table.entries.map((e) => [e.name, e.typeName, e.subtypeName, e.offset, e.size])).toEqual([
      ["factory", "app", "factory", 0x10000, 0x100000],
      ["rfdata", "data", "phy", 0x110000, 0x40000],
      ["wifidata", "data", "nvs", 0x150000, 0x40000],
    ]);
    expect(table.endMarker).toBe(false);
    expect(formatPartitionTable(table)).toContain("factory,app,factory,0x10000,1M,");
  });
  it("rejects a missing end marker by default", () => {
    expect(() => parsePartitionTable(singleApp)).toThrow(/end marker/);
  });
  it("checks the MD5 entry", () => {
    const good = withMd5AndEnd(singleApp);
    expect(parsePartitionTable(good).md5?.valid).toBe(true);
    const bad = good.slice(); bad[20] ^= 1;
    expect(() => parsePartitionTable(bad)).toThrow(expect.objectContaining({ code: "bad-md5" }));
  });
  it("rejects overlapping and misaligned partitions", () => {
    const overlap = singleApp.slice(); new DataView(overlap.buffer).setUint32(0x24, 0x100000, true);
    expect(() => parsePartitionTable(overlap, { requireEndMarker: false })).toThrow(expect.objectContaining({ code: "overlap" }));
    const misaligned = singleApp.slice(); new DataView(misaligned.buffer).setUint32(4, 0x9000, true);
    expect(() => parsePartitionTable(misaligned, { requireEndMarker: false })).toThrow(expect.objectContaining({ code: "misaligned-app" }));
  });
  it("throws only PartitionTableError for random bytes and mutations", () => {
    const onlyTyped = (bytes: Uint8Array) => { try { parsePartitionTable(bytes); } catch (e) { if (!(e instanceof PartitionTableError)) throw e; } };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4000 }), onlyTyped), { numRuns: 300 });
    const base = withMd5AndEnd(singleApp);
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), (edits) => {
      const b = base.slice(); for (const [i, v] of edits) b[i] = v; onlyTyped(b);
    }), { numRuns: 300 });
  });
});
