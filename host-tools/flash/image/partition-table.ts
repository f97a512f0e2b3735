import { createHash } from "node:crypto";
import { PartitionTableError } from "./errors.ts";

export { PartitionTableError };

const ENTRY_SIZE = 32;
/** ESP-IDF reserves 0xC00 bytes for the table (gen_esp32part.py MAX_PARTITION_LENGTH). */
export const MAX_TABLE_LENGTH = 0xc00;
const APP_ALIGNMENT = 0x10000;

const APP_SUBTYPES: Record<number, string> = { 0x00: "factory", 0x20: "test" };
for (let n = 0; n < 16; n++) APP_SUBTYPES[0x10 + n] = `ota_${n}`;
const DATA_SUBTYPES: Record<number, string> = {
  0x00: "ota", 0x01: "phy", 0x02: "nvs", 0x03: "coredump", 0x04: "nvs_keys", 0x05: "efuse", 0x06: "undefined",
  0x80: "esphttpd", 0x81: "fat", 0x82: "spiffs",
};

export interface PartitionEntry {
  type: number; typeName: string; subtype: number; subtypeName: string;
  offset: number; size: number; name: string; encrypted: boolean; flags: number;
}
export interface PartitionTable {
  entries: PartitionEntry[];
  md5?: { stored: string; computed: string; valid: boolean };
  /** False only when parsed with requireEndMarker: false and the data stopped at an entry boundary. */
  endMarker: boolean;
}

export interface ParsePartitionTableOptions {
  /** Like gen_esp32part.py, a table must end with 32 bytes of 0xff; false accepts data trimmed after the last entry. */
  requireEndMarker?: boolean;
}

function typeNames(type: number, subtype: number): [string, string] {
  if (type === 0x00) return ["app", APP_SUBTYPES[subtype] ?? `0x${subtype.toString(16)}`];
  if (type === 0x01) return ["data", DATA_SUBTYPES[subtype] ?? `0x${subtype.toString(16)}`];
  // Moddable's mod partition (type 0x40, subtype 1) holds the XS archive.
  if (type === 0x40 && subtype === 0x01) return ["0x40", "xs"];
  return [`0x${type.toString(16)}`, `0x${subtype.toString(16)}`];
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** Parses a binary ESP-IDF partition table (gen_esp32part.py layout). Throws only PartitionTableError. */
export function parsePartitionTable(bytes: Uint8Array, options: ParsePartitionTableOptions = {}): PartitionTable {
  const requireEndMarker = options.requireEndMarker ?? true;
  let endMarker = true;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: PartitionEntry[] = [];
  let md5: PartitionTable["md5"];
  for (let offset = 0; ; offset += ENTRY_SIZE) {
    if (offset >= MAX_TABLE_LENGTH) throw new PartitionTableError("no-end-marker", `partition table has no end marker (0xff×32) within ${MAX_TABLE_LENGTH} bytes; the data is not a partition table or is corrupt`);
    if (offset === bytes.length && !requireEndMarker && offset > 0) { endMarker = false; break; }
    if (offset === bytes.length) throw new PartitionTableError("no-end-marker", `partition table is missing its end marker (32 bytes of 0xff) after ${offset / ENTRY_SIZE} entries; read the whole 0xc00-byte table, or pass --allow-trimmed for a file trimmed after the last entry`);
    if (offset + ENTRY_SIZE > bytes.length) throw new PartitionTableError("truncated", `partition table truncated at byte ${bytes.length}: expected a 32-byte entry or the end marker at offset ${offset}; read 0xc00 bytes from 0x8000`);
    const entry = bytes.subarray(offset, offset + ENTRY_SIZE);
    if (entry.every((b) => b === 0xff)) break;
    if (entry[0] === 0xeb && entry[1] === 0xeb) {
      const computed = hex(new Uint8Array(createHash("md5").update(bytes.subarray(0, offset)).digest()));
      const stored = hex(entry.subarray(16, 32));
      md5 = { stored, computed, valid: stored === computed };
      if (!md5.valid) throw new PartitionTableError("bad-md5", `partition table MD5 mismatch at offset ${offset}: stored ${stored}, computed ${computed}; regenerate the table with gen_esp32part.py`);
      continue;
    }
    if (entry[0] !== 0xaa || entry[1] !== 0x50) throw new PartitionTableError("bad-magic", `partition entry at offset ${offset} starts 0x${hex(entry.subarray(0, 2))}, expected 0xaa50; is this really the table (normally at 0x8000)?`);
    const type = entry[2]!, subtype = entry[3]!;
    const [typeName, subtypeName] = typeNames(type, subtype);
    const labelBytes = entry.subarray(12, 28);
    const end = labelBytes.indexOf(0);
    const name = String.fromCharCode(...labelBytes.subarray(0, end < 0 ? 16 : end));
    const flags = view.getUint32(offset + 28, true);
    entries.push({ type, typeName, subtype, subtypeName, offset: view.getUint32(offset + 4, true), size: view.getUint32(offset + 8, true), name, flags, encrypted: (flags & 1) !== 0 });
  }
  checkLayout(entries);
  return md5 ? { entries, md5, endMarker } : { entries, endMarker };
}

function checkLayout(entries: PartitionEntry[]): void {
  for (const e of entries) {
    if (e.type === 0 && e.offset % APP_ALIGNMENT !== 0) throw new PartitionTableError("misaligned-app", `app partition "${e.name}" at 0x${e.offset.toString(16)} is not 64 KB aligned; move it to a multiple of 0x10000`);
  }
  const sorted = [...entries].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!, cur = sorted[i]!;
    if (prev.offset + prev.size > cur.offset) throw new PartitionTableError("overlap", `partitions "${prev.name}" (0x${prev.offset.toString(16)}+0x${prev.size.toString(16)}) and "${cur.name}" (0x${cur.offset.toString(16)}) overlap; fix the offsets in partitions.csv`);
  }
}

function humanSize(size: number): string {
  if (size % (1024 * 1024) === 0) return `${size / (1024 * 1024)}M`;
  if (size % 1024 === 0) return `${size / 1024}K`;
  return `0x${size.toString(16)}`;
}

/** The table as CSV, like `gen_esp32part.py` prints when converting binary to CSV. */
export function formatPartitionTable(table: PartitionTable): string {
  const lines = ["# ESP-IDF Partition Table", "# Name, Type, SubType, Offset, Size, Flags"];
  for (const e of table.entries) lines.push(`${e.name},${e.typeName},${e.subtypeName},0x${e.offset.toString(16)},${humanSize(e.size)},${e.encrypted ? "encrypted" : ""}`);
  return lines.join("\n") + "\n";
}

/** Text for `esplab partition-table`; also usable for a table read from a chip. */
export function describePartitionTable(bytes: Uint8Array, options: { json?: boolean } & ParsePartitionTableOptions = {}): string {
  const table = parsePartitionTable(bytes, options);
  return options.json ? JSON.stringify(table, null, 2) + "\n" : formatPartitionTable(table);
}
