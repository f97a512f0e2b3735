/**
 * Readings in PostgreSQL (node-postgres), for a class or a deployment that outgrows one laptop. The tables follow
 * the SQLite store's schema — readings keyed by (device, seq) so a redelivery is stored once, unsequenced readings
 * with MQTT's packet id and a digest, and rejects with the message's bytes — and are created on first use.
 * A write resolves only after PostgreSQL has committed it (synchronous_commit is left at the server's setting,
 * which is on unless someone turned it off), so acknowledging afterwards is safe.
 */
import { createHash } from "node:crypto";
import pg from "pg";
import { ReadingRejected, type Reading } from "./reading-message.ts";
import type { ReadingsStorage } from "./readings-storage.ts";
import { ReadingsStoreError, type Delivery, type ReadingQuery, type Reject, type StoredReading } from "./readings-store.ts";

/** As in the SQLite store: a redelivery's first copy is among the last unsequenced rows stored. */
const REDELIVERY_WINDOW = 1000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS readings (
    device TEXT NOT NULL, seq BIGINT NOT NULL, ts BIGINT, received_at BIGINT NOT NULL, fields JSONB NOT NULL,
    PRIMARY KEY (device, seq));
  CREATE INDEX IF NOT EXISTS readings_by_time ON readings (received_at);
  CREATE TABLE IF NOT EXISTS unsequenced (
    id BIGSERIAL PRIMARY KEY, device TEXT NOT NULL, packet_id INTEGER, digest TEXT NOT NULL, ts BIGINT,
    received_at BIGINT NOT NULL, fields JSONB NOT NULL);
  CREATE INDEX IF NOT EXISTS unsequenced_by_time ON unsequenced (received_at);
  CREATE TABLE IF NOT EXISTS rejects (
    id BIGSERIAL PRIMARY KEY, received_at BIGINT NOT NULL, topic TEXT NOT NULL, payload BYTEA NOT NULL, reason TEXT NOT NULL);`;

/** Any constant: two stores creating the tables at once take turns instead of colliding in the catalog. */
const SCHEMA_LOCK = 0x65_73_70_6c;

export class PostgresReadingsStore implements ReadingsStorage {
  readonly location: string;
  readonly #pool: pg.Pool;
  #schema: Promise<void> | undefined;

  constructor(url: string) {
    this.location = `PostgreSQL ${redact(url)}`;
    this.#pool = new pg.Pool({ connectionString: url, max: 8, connectionTimeoutMillis: 5000, query_timeout: 15_000, idleTimeoutMillis: 10_000 });
    // An idle connection the server closes (a restart) is replaced at the next query; without a listener it would
    // end the process. So would one that ends while checked out between queries (no listener is attached then):
    // its next query fails as "not queryable", which is transient below, and the pool drops it.
    this.#pool.on("error", () => undefined);
    this.#pool.on("connect", (client) => client.on("error", () => undefined));
  }

  async insert(reading: Reading, receivedAt = Date.now(), delivery?: Delivery): Promise<"stored" | "duplicate"> {
    const fields = JSON.stringify(reading.fields);
    if (fields.includes("\\u0000")) throw new ReadingRejected("nul-in-text", "a text field holds the character U+0000, which PostgreSQL text cannot store");
    if (reading.seq !== undefined) {
      const result = await this.#query(
        "INSERT INTO readings (device, seq, ts, received_at, fields) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (device, seq) DO NOTHING",
        [reading.device, reading.seq, reading.ts ?? null, receivedAt, fields],
      );
      return result.rowCount === 1 ? "stored" : "duplicate";
    }
    const digest = createHash("sha256").update(JSON.stringify([reading.device, reading.ts ?? null, fields])).digest("base64url");
    if (delivery?.dup && delivery.packetId !== undefined) {
      const recent = await this.#query(
        `SELECT digest FROM (SELECT packet_id, digest, id FROM unsequenced ORDER BY id DESC LIMIT ${REDELIVERY_WINDOW}) recent WHERE packet_id = $1 ORDER BY id DESC LIMIT 1`,
        [delivery.packetId],
      );
      if ((recent.rows[0] as { digest?: string } | undefined)?.digest === digest) return "duplicate";
    }
    await this.#query("INSERT INTO unsequenced (device, packet_id, digest, ts, received_at, fields) VALUES ($1, $2, $3, $4, $5, $6)", [
      reading.device,
      delivery?.packetId ?? null,
      digest,
      reading.ts ?? null,
      receivedAt,
      fields,
    ]);
    return "stored";
  }

  async reject(topic: string, payload: Uint8Array, reason: string, receivedAt = Date.now()): Promise<void> {
    await this.#query("INSERT INTO rejects (received_at, topic, payload, reason) VALUES ($1, $2, $3, $4)", [receivedAt, topic.replaceAll("\0", "\uFFFD"), Buffer.from(payload), reason]);
  }

  async readings(query: ReadingQuery = {}): Promise<StoredReading[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.device !== undefined) {
      params.push(query.device);
      where.push(`device = $${params.length}`);
    }
    if (query.since !== undefined) {
      params.push(query.since);
      where.push(`received_at >= $${params.length}`);
    }
    const filter = where.length ? `WHERE ${where.join(" AND ")}` : "";
    const limit = query.limit ? ` LIMIT ${Math.floor(query.limit)}` : "";
    const result = await this.#query(
      `SELECT device, seq, ts, received_at, fields FROM (
         SELECT device, seq, ts, received_at, fields, 0 AS kind, 0::bigint AS id FROM readings ${filter}
         UNION ALL SELECT device, NULL, ts, received_at, fields, 1, id FROM unsequenced ${filter}) AS everything
       ORDER BY device, kind, seq, id${limit}`,
      params,
    );
    return (result.rows as { device: string; seq: string | null; ts: string | null; received_at: string; fields: Reading["fields"] }[]).map((row) => ({
      device: row.device,
      seq: row.seq === null ? undefined : Number(row.seq),
      ts: row.ts === null ? undefined : Number(row.ts),
      receivedAt: Number(row.received_at),
      fields: row.fields,
    }));
  }

  async devices(): Promise<string[]> {
    const result = await this.#query(`SELECT device FROM (SELECT device FROM readings UNION SELECT device FROM unsequenced) AS devices ORDER BY device COLLATE "C"`, []);
    return (result.rows as { device: string }[]).map((row) => row.device);
  }

  async rejects(): Promise<Reject[]> {
    const result = await this.#query("SELECT received_at, topic, payload, reason FROM rejects ORDER BY id", []);
    return (result.rows as { received_at: string; topic: string; payload: Buffer; reason: string }[]).map((row) => ({
      receivedAt: Number(row.received_at),
      topic: row.topic,
      payload: row.payload.toString("utf8"),
      reason: row.reason,
    }));
  }

  async count(): Promise<{ readings: number; rejects: number }> {
    const result = await this.#query("SELECT (SELECT count(*) FROM readings) + (SELECT count(*) FROM unsequenced) AS readings, (SELECT count(*) FROM rejects) AS rejects", []);
    const row = result.rows[0] as { readings: string; rejects: string };
    return { readings: Number(row.readings), rejects: Number(row.rejects) };
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  async #query(text: string, values: unknown[]): Promise<pg.QueryResult> {
    try {
      await this.#ensureSchema();
      return await this.#pool.query(text, values);
    } catch (error) {
      throw explain(error, this.location);
    }
  }

  #ensureSchema(): Promise<void> {
    this.#schema ??= (async () => {
      const client = await this.#pool.connect();
      try {
        await client.query("BEGIN");
        await client.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK]);
        await client.query(SCHEMA);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    })().catch((error: unknown) => {
      this.#schema = undefined; // try again with the next write
      throw error;
    });
    return this.#schema;
  }
}

/** The URL as it can be shown: without its password. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ":***@");
  }
}

/** Network failures and SQLSTATE classes a later attempt can get past (https://www.postgresql.org/docs/15/errcodes-appendix.html). */
const TRANSIENT_NETWORK = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "EAI_AGAIN"]);

function explain(error: unknown, location: string): unknown {
  if (error instanceof ReadingRejected || error instanceof ReadingsStoreError) return error;
  const code = String((error as { code?: unknown }).code ?? "");
  const message = (error as Error).message ?? String(error);
  const transient = (why: string, fix = "") => new ReadingsStoreError("store-unavailable", `${location} ${why}; nothing was written${fix}`, { cause: error, transient: true });
  if (TRANSIENT_NETWORK.has(code)) return transient(`is not reachable (${code})`, " — is the server running?");
  if (/timeout|terminated|Connection ended|not queryable/i.test(message) && !code) return transient(`did not answer (${message})`);
  if (code.startsWith("08") || code.startsWith("57P") || code === "53300") return transient(`is not accepting work right now (${message}, SQLSTATE ${code})`);
  if (code.startsWith("53") || code === "58030") return transient(`cannot write (${message}, SQLSTATE ${code})`, " — free space on the database server");
  if (code === "40001" || code === "40P01") return transient(`had a conflict (${message})`);
  if (code === "28P01" || code === "28000") return new ReadingsStoreError("store-auth", `${location} refused the login: ${message} — check the user and password in the URL (or PGPASSWORD)`, { cause: error });
  if (code === "3D000") return new ReadingsStoreError("store-missing", `${location}: ${message} — create it first (createdb NAME, or CREATE DATABASE NAME in psql)`, { cause: error });
  if (code === "42501") return new ReadingsStoreError("store-permission", `${location}: ${message} — grant the user CREATE and INSERT on the database`, { cause: error });
  if (code === "ENOTFOUND") return new ReadingsStoreError("store-host", `${location}: no host by that name (${message}) — check the URL`, { cause: error });
  return new ReadingsStoreError("store-failed", `${location}: ${message}${code ? ` (SQLSTATE ${code})` : ""}`, { cause: error });
}
