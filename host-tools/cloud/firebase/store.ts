import fs from "node:fs";
import path from "node:path";
import { getAt, normalize, setAt } from "../../../firmware/net/firebase/tree.ts";
import type { JsonValue } from "../../../firmware/net/firebase/ordering.ts";
import { Rules } from "./rules.ts";

/** A write as it goes to the log: the value at one path, or several paths at once (a multi-path update). */
export type LogRecord = { set: string[]; value: JsonValue } | { update: string[]; values: [string[], JsonValue][] } | { rules: object };

/** Until rules are set, everything is open, as on Firebase's own emulator. */
export const OPEN_RULES = { rules: { ".read": true, ".write": true } };

const COMPACT_AFTER = 2000;

/**
 * One database namespace: the tree, its rules, and — with a data directory — durability. Every acknowledged write
 * is appended to a log and fsync'ed before the caller answers; start-up replays snapshot + log (a torn last record,
 * from a crash mid-append, is dropped with a warning); the log is folded into the snapshot now and then, atomically.
 */
export class NamespaceStore {
  root: JsonValue = null;
  rules: Rules = new Rules(OPEN_RULES);
  readonly #snapshotFile: string | undefined;
  readonly #logFile: string | undefined;
  #logFd: number | undefined;
  #logRecords = 0;
  readonly warnings: string[] = [];

  constructor(readonly name: string, dataDir?: string) {
    if (!dataDir) return;
    fs.mkdirSync(dataDir, { recursive: true });
    const file = namespaceFileName(name);
    this.#snapshotFile = path.join(dataDir, `${file}.snapshot.json`);
    this.#logFile = path.join(dataDir, `${file}.log`);
    this.#adoptOldFiles(dataDir, file);
    this.#load();
    this.#logFd = fs.openSync(this.#logFile, "a");
  }

  get(at: string[]): JsonValue {
    return getAt(this.root, at);
  }

  /** Applies and, with a data directory, makes durable. Returns the new root. */
  commit(record: LogRecord): void {
    this.#apply(record);
    if (this.#logFd === undefined) return;
    fs.writeSync(this.#logFd, `${JSON.stringify(record)}\n`);
    fs.fsyncSync(this.#logFd);
    if (++this.#logRecords >= COMPACT_AFTER) this.#compact();
  }

  /** What the tree would be after a record, without applying it (for rules' newData). */
  preview(record: LogRecord): JsonValue {
    return apply(this.root, record);
  }

  close(): void {
    if (this.#logFd !== undefined) fs.closeSync(this.#logFd);
    this.#logFd = undefined;
  }

  #apply(record: LogRecord): void {
    if ("rules" in record) this.rules = new Rules(record.rules);
    else this.root = apply(this.root, record);
  }

  /**
   * Older data directories named a namespace's files with every character outside A-Z a-z 0-9 _ - turned into "_",
   * so "col.x" and "col_x" shared col_x.*. An old file belongs to the namespace it spells exactly (renamed to the new
   * name if that differs); a namespace whose name was rewritten cannot tell the file was its own, so leaves it.
   */
  #adoptOldFiles(dataDir: string, file: string): void {
    const old = this.name.replace(/[^A-Za-z0-9_-]/g, "_");
    if (old === file) return;
    if (old !== this.name) {
      if (!fs.existsSync(path.join(dataDir, `${file}.log`)) && fs.existsSync(path.join(dataDir, `${old}.log`))) {
        this.warnings.push(`${this.name}: starts empty; ${old}.log in ${dataDir} is from an older esplab, where this namespace shared it with "${old}", which now reads it`);
      }
      return;
    }
    for (const suffix of [".snapshot.json", ".log"]) {
      const from = path.join(dataDir, `${old}${suffix}`);
      const to = path.join(dataDir, `${file}${suffix}`);
      if (fs.existsSync(from) && !fs.existsSync(to)) fs.renameSync(from, to);
    }
  }

  #load(): void {
    if (fs.existsSync(this.#snapshotFile!)) {
      const saved = JSON.parse(fs.readFileSync(this.#snapshotFile!, "utf8")) as { root: JsonValue; rules: object };
      this.root = saved.root;
      this.rules = new Rules(saved.rules);
    }
    if (!fs.existsSync(this.#logFile!)) return;
    const text = fs.readFileSync(this.#logFile!, "utf8");
    const lines = text.split("\n");
    const complete = text.endsWith("\n") ? lines.slice(0, -1) : lines.slice(0, -1);
    if (!text.endsWith("\n") && lines.at(-1)) {
      this.warnings.push(`${this.name}: dropped a torn last log record (${lines.at(-1)!.length} bytes): it was never acknowledged`);
      fs.truncateSync(this.#logFile!, Buffer.byteLength(complete.map((l) => `${l}\n`).join("")));
    }
    for (const line of complete) {
      if (!line) continue;
      try {
        this.#apply(JSON.parse(line) as LogRecord);
        this.#logRecords++;
      } catch {
        this.warnings.push(`${this.name}: skipped an unreadable log record`);
      }
    }
  }

  #compact(): void {
    const temp = `${this.#snapshotFile}.tmp`;
    const fd = fs.openSync(temp, "w");
    fs.writeSync(fd, JSON.stringify({ root: this.root, rules: this.rules.source }));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(temp, this.#snapshotFile!);
    fs.ftruncateSync(this.#logFd!, 0);
    fs.fsyncSync(this.#logFd!);
    this.#logRecords = 0;
  }
}

/**
 * A namespace's file name, one per namespace: lowercase letters, digits, "_" and "-" stay, every other byte of its
 * UTF-8 becomes %XX. Upper case is escaped too, so names stay apart on case-insensitive file systems, and a name
 * never holds ".", "/" or "%" of its own.
 */
export function namespaceFileName(namespace: string): string {
  let out = "";
  for (const char of namespace) {
    if (/^[a-z0-9_-]$/.test(char)) out += char;
    else for (const byte of Buffer.from(char, "utf8")) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function apply(root: JsonValue, record: LogRecord): JsonValue {
  if ("set" in record) return normalize(setAt(root, record.set, normalize(record.value)));
  if ("update" in record) {
    let next = root;
    for (const [at, value] of record.values) next = setAt(next, [...record.update, ...at], normalize(value));
    return normalize(next);
  }
  return root;
}
