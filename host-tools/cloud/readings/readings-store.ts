import { createHash } from "node:crypto";
import Database from "better-sqlite3";
import { EsplabError } from "../../../firmware/core/errors.ts";
import type { Reading } from "./reading-message.ts";
import type { ReadingsStorage } from "./readings-storage.ts";

export interface StoredReading extends Reading {
  receivedAt: number;
}

export interface Reject {
  receivedAt: number;
  topic: string;
  payload: string;
  reason: string;
}

export interface ReadingQuery {
  device?: string;
  /** Only readings received at or after this time (ms since the epoch). */
  since?: number;
  limit?: number;
}

/** How a message reached the subscriber: MQTT's packet id and DUP flag, which identify a redelivery. */
export interface Delivery {
  packetId: number | undefined;
  dup: boolean;
}

/**
 * A redelivery comes right after the subscriber reconnects, so its first copy (if it was stored before a crash took
 * the acknowledgement with it) is among the last rows stored; packet ids come back only after 65 535 others.
 */
const REDELIVERY_WINDOW = 1000;

/**
 * The database could not be opened or written. `transient` when waiting can fix it — a full disk, a lock another
 * program holds, an I/O error — so a subscriber leaves the reading unacknowledged and tries again later.
 */
export class ReadingsStoreError extends EsplabError {
  readonly transient: boolean;
  constructor(code: string, message: string, options: { cause?: unknown; transient?: boolean } = {}) {
    super(code, message, { cause: options.cause });
    this.transient = options.transient ?? false;
  }
}

/** SQLite's result codes for a write that may succeed later (https://www.sqlite.org/rescode.html). */
function writeFailure(file: string, error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string" || !code.startsWith("SQLITE_")) return error;
  if (code === "SQLITE_FULL") return new ReadingsStoreError("store-full", `the disk holding ${file} is full — free some space; nothing was written`, { cause: error, transient: true });
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new ReadingsStoreError("store-locked", `${file} is locked by another program (an open sqlite3 shell or a long export?) — close it; nothing was written`, { cause: error, transient: true });
  }
  if (code.startsWith("SQLITE_IOERR")) return new ReadingsStoreError("store-io", `cannot write ${file}: ${(error as Error).message} (${code}); nothing was written`, { cause: error, transient: true });
  return new ReadingsStoreError("store-failed", `cannot write ${file}: ${(error as Error).message} (${code})`, { cause: error });
}

/**
 * Readings kept durably in SQLite: one row per (device, seq), so a QoS 1 redelivery is stored once, and messages that
 * are not readings kept with the reason instead of dropped. A reading without seq is stored with its arrival time;
 * its identity is MQTT's own — a redelivery (DUP set) with the packet id and content of a row just stored is that
 * row again, anything else is a new reading (two identical {"temp":22} sent on purpose are two readings). WAL with synchronous=FULL: once insert() returns, the
 * reading survives a crash or power cut, which is what lets the subscriber acknowledge it to the broker.
 */
export class ReadingsStore implements ReadingsStorage {
  readonly #file: string;
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #reject: Database.Statement;

  constructor(file: string) {
    this.#file = file;
    try {
      // A lock held by another program is waited for this long, then reported (the subscriber retries later).
      this.#db = new Database(file, { timeout: 2000 });
      this.#db.pragma("journal_mode = WAL");
      this.#db.pragma("synchronous = FULL");
      this.#db.exec(`
        CREATE TABLE IF NOT EXISTS readings (
          device TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER, received_at INTEGER NOT NULL, fields TEXT NOT NULL,
          PRIMARY KEY (device, seq)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS readings_by_time ON readings (received_at);
        CREATE TABLE IF NOT EXISTS unsequenced (
          id INTEGER PRIMARY KEY, device TEXT NOT NULL, packet_id INTEGER, digest TEXT NOT NULL, ts INTEGER,
          received_at INTEGER NOT NULL, fields TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS rejects (
          id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, topic TEXT NOT NULL, payload TEXT NOT NULL, reason TEXT NOT NULL);
      `);
    } catch (error) {
      throw new ReadingsStoreError("db-open", `cannot open the readings database ${file}: ${(error as Error).message} — check the path exists and is writable`, { cause: error });
    }
    this.#insert = this.#db.prepare("INSERT OR IGNORE INTO readings (device, seq, ts, received_at, fields) VALUES (?, ?, ?, ?, ?)");
    this.#reject = this.#db.prepare("INSERT INTO rejects (received_at, topic, payload, reason) VALUES (?, ?, ?, ?)");
    this.#insertUnsequenced = this.#db.prepare("INSERT INTO unsequenced (device, packet_id, digest, ts, received_at, fields) VALUES (?, ?, ?, ?, ?, ?)");
    // The latest row with that packet id, if it is among the last rows stored: a redelivery's first copy would be it.
    this.#recentCopy = this.#db.prepare(
      `SELECT digest FROM (SELECT packet_id, digest, id FROM unsequenced ORDER BY id DESC LIMIT ${REDELIVERY_WINDOW}) WHERE packet_id = ? ORDER BY id DESC LIMIT 1`,
    );
  }

  readonly #insertUnsequenced: Database.Statement;
  readonly #recentCopy: Database.Statement;

  /**
   * Stores a reading; "duplicate" when it is already there (the first copy is kept): the same (device, seq), or for
   * a reading without seq, a redelivery of one just stored (see the class comment).
   */
  insert(reading: Reading, receivedAt = Date.now(), delivery?: Delivery): "stored" | "duplicate" {
    try {
      return this.#insertReading(reading, receivedAt, delivery);
    } catch (error) {
      throw writeFailure(this.#file, error);
    }
  }

  #insertReading(reading: Reading, receivedAt: number, delivery: Delivery | undefined): "stored" | "duplicate" {
    const fields = JSON.stringify(reading.fields);
    if (reading.seq !== undefined) {
      const result = this.#insert.run(reading.device, reading.seq, reading.ts ?? null, receivedAt, fields);
      return result.changes === 1 ? "stored" : "duplicate";
    }
    const digest = createHash("sha256").update(JSON.stringify([reading.device, reading.ts ?? null, fields])).digest("base64url");
    if (delivery?.dup && delivery.packetId !== undefined && (this.#recentCopy.get(delivery.packetId) as { digest: string } | undefined)?.digest === digest) return "duplicate";
    this.#insertUnsequenced.run(reading.device, delivery?.packetId ?? null, digest, reading.ts ?? null, receivedAt, fields);
    return "stored";
  }

  reject(topic: string, payload: Uint8Array, reason: string, receivedAt = Date.now()): void {
    try {
      this.#reject.run(receivedAt, topic, Buffer.from(payload).toString("utf8"), reason);
    } catch (error) {
      throw writeFailure(this.#file, error);
    }
  }

  readings(query: ReadingQuery = {}): StoredReading[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.device !== undefined) {
      where.push("device = ?");
      params.push(query.device);
    }
    if (query.since !== undefined) {
      where.push("received_at >= ?");
      params.push(query.since);
    }
    const filter = where.length ? `WHERE ${where.join(" AND ")}` : "";
    // Sequenced readings in sequence order, then those without seq in arrival order, per device.
    const sql = `SELECT device, seq, ts, received_at, fields FROM (
        SELECT device, seq, ts, received_at, fields, 0 AS kind, 0 AS id FROM readings ${filter}
        UNION ALL SELECT device, NULL, ts, received_at, fields, 1, id FROM unsequenced ${filter})
      ORDER BY device, kind, seq, id${query.limit ? ` LIMIT ${Math.floor(query.limit)}` : ""}`;
    return (this.#db.prepare(sql).all(...params, ...params) as { device: string; seq: number | null; ts: number | null; received_at: number; fields: string }[]).map((row) => ({
      device: row.device,
      seq: row.seq ?? undefined,
      ts: row.ts ?? undefined,
      receivedAt: row.received_at,
      fields: JSON.parse(row.fields) as Reading["fields"],
    }));
  }

  devices(): string[] {
    return (this.#db.prepare("SELECT device FROM readings UNION SELECT device FROM unsequenced ORDER BY device").all() as { device: string }[]).map((row) => row.device);
  }

  rejects(): Reject[] {
    return (this.#db.prepare("SELECT received_at, topic, payload, reason FROM rejects ORDER BY id").all() as { received_at: number; topic: string; payload: string; reason: string }[]).map((row) => ({
      receivedAt: row.received_at,
      topic: row.topic,
      payload: row.payload,
      reason: row.reason,
    }));
  }

  count(): { readings: number; rejects: number } {
    const readings = (this.#db.prepare("SELECT (SELECT count(*) FROM readings) + (SELECT count(*) FROM unsequenced) AS n").get() as { n: number }).n;
    const rejects = (this.#db.prepare("SELECT count(*) AS n FROM rejects").get() as { n: number }).n;
    return { readings, rejects };
  }

  get location(): string {
    return `SQLite ${this.#file}`;
  }

  close(): void {
    this.#db.close();
  }
}
