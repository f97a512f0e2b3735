import fs from "node:fs";
import path from "node:path";
import { getAt, normalize } from "../../../firmware/net/firebase/tree.ts";
import type { JsonValue } from "../../../firmware/net/firebase/ordering.ts";
import { syncDir, writeFileAtomically } from "./atomic-file.ts";
import { GroupCommitLog } from "./group-commit.ts";
import { writeInPlace } from "./live-tree.ts";
import { Rules } from "./rules.ts";
import { writeTree } from "./tree-writer.ts";
import type { Writes } from "./tree-view.ts";

/**
 * A write as it goes to the log: the value at one path, or several paths at once (a multi-path update). Values are
 * normalized (tree.ts normalize) and server values already resolved, so replaying a record gives the same tree.
 */
export type LogRecord = { set: string[]; value: JsonValue } | { update: string[]; values: [string[], JsonValue][] } | { rules: object };

/** Until rules are set, everything is open, as on Firebase's own emulator. */
export const OPEN_RULES = { rules: { ".read": true, ".write": true } };

/**
 * The steps of a compaction, in order. After "log-switched" new writes go to `<ns>.log.next` and the tree is about
 * to be written; "snapshot-written": `<ns>.snapshot.json.tmp` is on disk; "snapshot-renamed": it replaced
 * the snapshot; "old-log-removed": `<ns>.log` is gone; "log-renamed": `<ns>.log.next` is `<ns>.log` again.
 */
export const COMPACTION_STEPS = ["log-switched", "snapshot-written", "snapshot-renamed", "old-log-removed", "log-renamed"] as const;
export type CompactionStep = (typeof COMPACTION_STEPS)[number];

export interface CompactionOptions {
  /** Compact once the log holds this many bytes; by default 8 MiB or the snapshot's size, whichever is larger. */
  afterBytes?: number;
  /** For crash tests only: stop compaction for good at this step (writes carry on), after calling onPause. */
  pauseAt?: CompactionStep;
  onPause?: (namespace: string, step: CompactionStep) => void;
}

const MIN_LOG_BYTES = 8 * 1024 * 1024;

/** The written locations of a set or update record, with their values. */
export function writesOf(record: { set: string[]; value: JsonValue } | { update: string[]; values: [string[], JsonValue][] }): Writes {
  return "set" in record ? [[record.set, record.value]] : record.values.map(([at, value]) => [[...record.update, ...at], value]);
}

/**
 * One database namespace: the tree, its rules, and — with a data directory — durability. A write changes the tree
 * in place (its cost is the written value and its path, not the tree) and is appended to the log; the promise
 * commit() returns resolves once the record is fsync'ed, together with whatever else arrived meanwhile (group
 * commit). When the log outgrows the snapshot, the tree is written out as the new snapshot, a slice at a time, while
 * writes carry on into a second log; every step leaves files that load to every acknowledged write (COMPACTION_STEPS).
 * Start-up reads snapshot + log(s); a torn last record, from a crash mid-append, is cut off with a warning.
 */
export class NamespaceStore {
  root: JsonValue = null;
  rules: Rules = new Rules(OPEN_RULES);
  readonly warnings: string[] = [];
  readonly #dir: string | undefined;
  readonly #files: { snapshot: string; temp: string; log: string; next: string } | undefined;
  readonly #compaction: CompactionOptions;
  #log: GroupCommitLog | undefined;
  #snapshotBytes = 0;
  #compacting: Promise<void> | undefined;
  #compactionFailed = false;
  #failed: Error | undefined;

  constructor(readonly name: string, dataDir?: string, compaction: CompactionOptions = {}) {
    this.#compaction = compaction;
    if (!dataDir) return;
    fs.mkdirSync(dataDir, { recursive: true });
    this.#dir = dataDir;
    const file = namespaceFileName(name);
    const base = path.join(dataDir, file);
    this.#files = { snapshot: `${base}.snapshot.json`, temp: `${base}.snapshot.json.tmp`, log: `${base}.log`, next: `${base}.log.next` };
    this.#adoptOldFiles(dataDir, file);
    this.#load();
    this.#log = new GroupCommitLog(fs.openSync(this.#files.log, "a"), () => this.#maybeCompact());
  }

  get(at: string[]): JsonValue {
    return getAt(this.root, at);
  }

  /** Applies the record now (later reads see it) and resolves once it is durable; only then may it be acknowledged. */
  commit(record: LogRecord): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    this.#apply(record);
    if (!this.#log) return Promise.resolve();
    return this.#log.append(`${JSON.stringify(record)}\n`).catch((error: Error) => {
      this.#failed ??= new Error(`${this.name}: a write could not be saved to ${this.#files!.log} (${error.message}); this namespace takes no more writes — fix the disk (space, permissions) and restart the emulator`);
      throw this.#failed;
    });
  }

  /** Waits for pending writes and a running compaction, then closes the log. */
  async close(): Promise<void> {
    if (!this.#log) return;
    const log = this.#log;
    this.#log = undefined;
    await log.drained();
    await this.#compacting;
    log.close();
  }

  #apply(record: LogRecord): void {
    if ("rules" in record) {
      this.rules = new Rules(record.rules);
      return;
    }
    for (const [at, value] of writesOf(record)) this.root = writeInPlace(this.root, at, value);
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
    const files = this.#files!;
    fs.rmSync(files.temp, { force: true }); // a compaction cut short; the snapshot it would replace is intact
    if (fs.existsSync(files.snapshot)) {
      const text = fs.readFileSync(files.snapshot, "utf8");
      this.#snapshotBytes = text.length;
      let saved: { root?: JsonValue; rules?: object };
      try {
        saved = JSON.parse(text) as typeof saved;
        if (!saved || typeof saved !== "object" || !("root" in saved)) throw new Error('no "root"');
        this.rules = new Rules(saved.rules ?? OPEN_RULES);
      } catch (error) {
        throw new Error(
          `${files.snapshot} is not a readable snapshot (${(error as Error).message}): esplab only ever replaces it whole, so something else changed it — restore it from a backup, or move it away to start "${this.name}" from its log alone`,
        );
      }
      this.root = normalize(saved.root ?? null);
    }
    this.#replay(files.log);
    if (!fs.existsSync(files.next)) return;
    // A compaction was cut short after writes had moved to the second log: both logs hold records the snapshot may
    // lack. Replayed in order they give the latest tree; save it whole, then drop the logs, older one first (the
    // newer one alone, over the new snapshot, still loads to the same tree).
    this.#replay(files.next);
    writeFileAtomically(files.snapshot, JSON.stringify({ root: this.root, rules: this.rules.source }));
    fs.rmSync(files.log, { force: true });
    syncDir(this.#dir!);
    fs.rmSync(files.next);
    syncDir(this.#dir!);
  }

  #replay(file: string): void {
    if (!fs.existsSync(file)) return;
    const bytes = fs.readFileSync(file);
    const end = bytes.lastIndexOf(0x0a) + 1;
    if (end < bytes.length) {
      this.warnings.push(`${this.name}: dropped a torn last record in ${path.basename(file)} (${bytes.length - end} bytes): it was never acknowledged`);
      fs.truncateSync(file, end);
    }
    let unreadable = 0;
    for (let start = 0; start < end; ) {
      const stop = bytes.indexOf(0x0a, start);
      const line = bytes.toString("utf8", start, stop);
      start = stop + 1;
      if (!line) continue;
      try {
        const record = JSON.parse(line) as LogRecord;
        if ("set" in record) this.#apply({ set: record.set, value: normalize(record.value) });
        else if ("update" in record) this.#apply({ update: record.update, values: record.values.map(([at, value]) => [at, normalize(value)]) });
        else this.#apply(record);
      } catch {
        unreadable++;
      }
    }
    if (unreadable) this.warnings.push(`${this.name}: skipped ${unreadable} unreadable record(s) in ${path.basename(file)}`);
  }

  /** Runs between log batches: starts a compaction when the log has outgrown its bound. */
  #maybeCompact(): void {
    const log = this.#log;
    if (!log || this.#compacting || this.#compactionFailed || this.#failed) return;
    if (log.bytes < (this.#compaction.afterBytes ?? Math.max(MIN_LOG_BYTES, this.#snapshotBytes))) return;
    const files = this.#files!;
    // Now, between batches, the tree holds the records written so far plus those waiting for the next batch; the
    // waiting ones and all later go to the second log. The snapshot is written while the tree goes on changing
    // (tree-writer.ts): replaying the second log over it, or both logs over the old snapshot, gives the latest tree.
    const nextFd = fs.openSync(files.next, "w");
    syncDir(this.#dir!);
    const oldFd = log.switchTo(nextFd);
    this.#compacting = this.#compact(this.root, this.rules.source, oldFd)
      .catch((error: Error) => {
        this.#compactionFailed = true;
        console.warn(`firebase emulator: ${this.name}: compaction stopped (${error.message}); writes carry on in ${files.next}, and the next start finishes it`);
      })
      .finally(() => (this.#compacting = undefined));
  }

  async #compact(root: JsonValue, rules: object, oldFd: number): Promise<void> {
    const files = this.#files!;
    const dir = this.#dir!;
    await this.#step("log-switched");
    const temp = await fs.promises.open(files.temp, "w");
    let bytes = 0;
    const sink = async (text: string) => {
      if (!text) return;
      await temp.writeFile(text);
      bytes += Buffer.byteLength(text);
    };
    try {
      await sink('{"root":');
      await writeTree(root, sink);
      await sink(`,"rules":${JSON.stringify(rules)}}`);
      await temp.sync();
    } finally {
      await temp.close();
    }
    await this.#step("snapshot-written");
    await fs.promises.rename(files.temp, files.snapshot);
    await syncDirAsync(dir);
    this.#snapshotBytes = bytes;
    await this.#step("snapshot-renamed");
    fs.closeSync(oldFd);
    await fs.promises.rm(files.log);
    await syncDirAsync(dir);
    await this.#step("old-log-removed");
    await fs.promises.rename(files.next, files.log);
    await syncDirAsync(dir);
    await this.#step("log-renamed");
  }

  async #step(step: CompactionStep): Promise<void> {
    if (this.#compaction.pauseAt !== step) return;
    this.#compaction.onPause?.(this.name, step);
    await new Promise(() => {});
  }
}

/** syncDir without holding up the event loop. */
async function syncDirAsync(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
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

/** The namespace a file name spells (namespaceFileName read back; older names read as themselves), or undefined. */
export function namespaceOfFile(file: string): string | undefined {
  const match = /^(.+?)\.(?:snapshot\.json|log|log\.next)$/.exec(file);
  if (!match) return undefined;
  const bytes: number[] = [];
  const name = match[1]!;
  for (let i = 0; i < name.length; ) {
    if (name[i] === "%") {
      const hex = name.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else {
      const code = name.charCodeAt(i++);
      if (code > 0x7f) return undefined;
      bytes.push(code);
    }
  }
  const decoded = Buffer.from(bytes).toString("utf8");
  return decoded.includes("\uFFFD") ? undefined : decoded;
}
