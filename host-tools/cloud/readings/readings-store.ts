import Database from "better-sqlite3";
import { EsplabError } from "../../../firmware/core/errors.ts";
import type { Reading } from "./reading-message.ts";

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

/** The database could not be opened or written. */
export class ReadingsStoreError extends EsplabError {}

/**
 * Readings kept durably in SQLite: one row per (device, seq), so a QoS 1 redelivery is stored once, and messages that
 * are not readings kept with the reason instead of dropped. WAL with synchronous=FULL: once insert() returns, the
 * reading survives a crash or power cut, which is what lets the subscriber acknowledge it to the broker.
 */
export class ReadingsStore {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #reject: Database.Statement;

  constructor(file: string) {
    try {
      this.#db = new Database(file);
      this.#db.pragma("journal_mode = WAL");
      this.#db.pragma("synchronous = FULL");
      this.#db.exec(`
        CREATE TABLE IF NOT EXISTS readings (
          device TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER, received_at INTEGER NOT NULL, fields TEXT NOT NULL,
          PRIMARY KEY (device, seq)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS readings_by_time ON readings (received_at);
        CREATE TABLE IF NOT EXISTS rejects (
          id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, topic TEXT NOT NULL, payload TEXT NOT NULL, reason TEXT NOT NULL);
      `);
    } catch (error) {
      throw new ReadingsStoreError("db-open", `cannot open the readings database ${file}: ${(error as Error).message} — check the path exists and is writable`, { cause: error });
    }
    this.#insert = this.#db.prepare("INSERT OR IGNORE INTO readings (device, seq, ts, received_at, fields) VALUES (?, ?, ?, ?, ?)");
    this.#reject = this.#db.prepare("INSERT INTO rejects (received_at, topic, payload, reason) VALUES (?, ?, ?, ?)");
  }

  /** Stores a reading; "duplicate" when (device, seq) is already there (the first copy is kept). */
  insert(reading: Reading, receivedAt = Date.now()): "stored" | "duplicate" {
    const result = this.#insert.run(reading.device, reading.seq, reading.ts ?? null, receivedAt, JSON.stringify(reading.fields));
    return result.changes === 1 ? "stored" : "duplicate";
  }

  reject(topic: string, payload: Uint8Array, reason: string, receivedAt = Date.now()): void {
    this.#reject.run(receivedAt, topic, Buffer.from(payload).toString("utf8"), reason);
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
    const sql = `SELECT device, seq, ts, received_at, fields FROM readings ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY device, seq${query.limit ? ` LIMIT ${Math.floor(query.limit)}` : ""}`;
    return (this.#db.prepare(sql).all(...params) as { device: string; seq: number; ts: number | null; received_at: number; fields: string }[]).map((row) => ({
      device: row.device,
      seq: row.seq,
      ts: row.ts ?? undefined,
      receivedAt: row.received_at,
      fields: JSON.parse(row.fields) as Reading["fields"],
    }));
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
    const readings = (this.#db.prepare("SELECT count(*) AS n FROM readings").get() as { n: number }).n;
    const rejects = (this.#db.prepare("SELECT count(*) AS n FROM rejects").get() as { n: number }).n;
    return { readings, rejects };
  }

  close(): void {
    this.#db.close();
  }
}
