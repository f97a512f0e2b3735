import fs from "node:fs";
import path from "node:path";
import { UsageError } from "../../firmware/core/errors.ts";
import {
  STORAGE_NAME_LIMIT,
  STORAGE_VALUE_LIMIT,
  type Storage,
  type StorageValue,
} from "../../firmware/ports/storage.ts";

type Stored = { s: string } | { n: number } | { b: boolean } | { a: string };
type StoredTree = Record<string, Record<string, Stored>>;

/**
 * The laptop's Storage: one JSON file, rewritten atomically (temp file, fsync, rename) on every change, so a value
 * is durable when `set` returns, as NVS is. Enforces NVS's limits so firmware that fits here fits on the device.
 */
export class FileStorage implements Storage {
  readonly file: string;
  #data: StoredTree;

  constructor(file: string) {
    this.file = file;
    this.#data = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as StoredTree) : {};
  }

  get(domain: string, key: string): StorageValue | undefined {
    const stored = this.#data[domain]?.[key];
    if (!stored) return undefined;
    if ("s" in stored) return stored.s;
    if ("n" in stored) return stored.n;
    if ("b" in stored) return stored.b;
    const bytes = Buffer.from(stored.a, "base64");
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  }

  set(domain: string, key: string, value: StorageValue): void {
    checkName("domain", domain);
    checkName("key", key);
    let stored: Stored;
    if (typeof value === "string") {
      if (Buffer.byteLength(value) > STORAGE_VALUE_LIMIT) throw tooBig(domain, key, Buffer.byteLength(value));
      stored = { s: value };
    } else if (typeof value === "number") stored = { n: value };
    else if (typeof value === "boolean") stored = { b: value };
    else {
      if (value.byteLength > STORAGE_VALUE_LIMIT) throw tooBig(domain, key, value.byteLength);
      stored = { a: Buffer.from(value).toString("base64") };
    }
    (this.#data[domain] ??= {})[key] = stored;
    this.#flush();
  }

  delete(domain: string, key: string): void {
    const entries = this.#data[domain];
    if (!entries || !(key in entries)) return;
    delete entries[key];
    if (Object.keys(entries).length === 0) delete this.#data[domain];
    this.#flush();
  }

  keys(domain: string): string[] {
    return Object.keys(this.#data[domain] ?? {});
  }

  #flush(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    const fd = fs.openSync(temp, "w");
    try {
      fs.writeSync(fd, JSON.stringify(this.#data));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, this.file);
  }
}

/** Storage that lives only as long as the process: for tests and throwaway boards. */
export class MemoryStorage implements Storage {
  #data = new Map<string, Map<string, StorageValue>>();
  get(domain: string, key: string): StorageValue | undefined {
    const value = this.#data.get(domain)?.get(key);
    return value instanceof ArrayBuffer ? value.slice(0) : value;
  }
  set(domain: string, key: string, value: StorageValue): void {
    checkName("domain", domain);
    checkName("key", key);
    const size = typeof value === "string" ? Buffer.byteLength(value) : value instanceof ArrayBuffer ? value.byteLength : 0;
    if (size > STORAGE_VALUE_LIMIT) throw tooBig(domain, key, size);
    let entries = this.#data.get(domain);
    if (!entries) this.#data.set(domain, (entries = new Map()));
    entries.set(key, value instanceof ArrayBuffer ? value.slice(0) : value);
  }
  delete(domain: string, key: string): void {
    this.#data.get(domain)?.delete(key);
  }
  keys(domain: string): string[] {
    return [...(this.#data.get(domain)?.keys() ?? [])];
  }
}

function checkName(what: string, name: string): void {
  if (name.length === 0 || name.length > STORAGE_NAME_LIMIT) {
    throw new UsageError(
      "STORAGE_NAME",
      `storage ${what} "${name}" must be 1–${STORAGE_NAME_LIMIT} characters (the ESP32's NVS limit); shorten it`,
    );
  }
}

function tooBig(domain: string, key: string, size: number): UsageError {
  return new UsageError(
    "STORAGE_VALUE",
    `storage value ${domain}/${key} is ${size} bytes; NVS holds at most ${STORAGE_VALUE_LIMIT} per key — split it`,
  );
}
