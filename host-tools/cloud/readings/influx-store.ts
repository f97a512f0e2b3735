/**
 * Readings in InfluxDB over HTTP, as the course feeds its server: line protocol (see line-protocol.ts) with the
 * device as a tag and the reading's values as fields.
 *
 * `influx://[user:password@]host[:8086]/DATABASE` speaks the 1.x API (/write and /query), which InfluxDB 2.x and 3.x
 * also answer; with `?org=ORG` it writes through the 2.x API (/api/v2/write?org=…&bucket=DATABASE). A token
 * (`?token=` or INFLUX_TOKEN) goes in `Authorization: Token …`, user and password in Basic auth. `influxs://` is the
 * same over HTTPS. Reading back (dashboard, export, counts) uses InfluxQL on /query; on 2.x that needs the bucket
 * mapped to a database (`influx v1 dbrp create`).
 *
 * A write is acknowledged by InfluxDB once it is in its write-ahead log (204), so acknowledging afterwards is safe;
 * a reading with seq is stored once per (device, seq), as in the SQL stores.
 * Writes that arrive together go out as one request (one WAL write for all of them); if InfluxDB refuses such a
 * batch, its lines are sent one by one so only the bad one is turned into a reject.
 */
import { ReadingRejected, type Reading } from "./reading-message.ts";
import { influxQlString, READINGS_MEASUREMENT, readingFieldName, readingLine, RECEIVED_AT_FIELD, rejectLine, REJECTS_MEASUREMENT } from "./line-protocol.ts";
import type { ReadingsStorage } from "./readings-storage.ts";
import { ReadingsStoreError, type Delivery, type ReadingQuery, type Reject, type StoredReading } from "./readings-store.ts";

const TIMEOUT_MS = 15_000;
const MAX_BATCH_LINES = 5000;

interface Pending {
  line: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface InfluxTarget {
  base: string;
  database: string;
  org: string | undefined;
  headers: Record<string, string>;
  location: string;
}

export function parseInfluxUrl(url: string, env: Record<string, string | undefined> = process.env): InfluxTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ReadingsStoreError("bad-db-url", `"${url}" is not a URL; write influx://host:8086/DATABASE`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\/+|\/+$/g, ""));
  if (!database || database.includes("/")) throw new ReadingsStoreError("bad-db-url", `${url} names no database: write influx://${parsed.host || "host:8086"}/DATABASE (the bucket, on InfluxDB 2.x/3.x)`);
  const token = parsed.searchParams.get("token") ?? env.INFLUX_TOKEN;
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Token ${token}`;
  else if (parsed.username) headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString("base64")}`;
  const scheme = parsed.protocol === "influxs:" ? "https:" : "http:";
  const base = `${scheme}//${parsed.hostname.includes(":") ? `[${parsed.hostname}]` : parsed.hostname}:${parsed.port || "8086"}`;
  const org = parsed.searchParams.get("org") ?? undefined;
  return { base, database, org, headers, location: `InfluxDB ${base}/${database}${org ? ` (org ${org})` : ""}` };
}

export class InfluxReadingsStore implements ReadingsStorage {
  readonly location: string;
  readonly #target: InfluxTarget;
  readonly #fetch: typeof fetch;
  #queue: Pending[] = [];
  #flushing = false;
  /** Sub-millisecond part of the next point without a sequence number. */
  #counter = 0;
  #createdDatabase = false;
  /** Per device, the highest seq written or tried (see insert). */
  readonly #highestSeq = new Map<string, number>();
  readonly #loadingSeq = new Map<string, Promise<void>>();
  /** Writes of sequenced readings not yet answered, by device and seq. */
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(url: string, options: { fetch?: typeof fetch; env?: Record<string, string | undefined> } = {}) {
    this.#target = parseInfluxUrl(url, options.env);
    this.location = this.#target.location;
    this.#fetch = options.fetch ?? fetch;
  }

  /**
   * A reading with seq is looked for only when its seq is not above the highest this store has written or tried to
   * write for the device (loaded from InfluxDB on first sight): devices count up, so only a redelivery, or a reading
   * whose first write failed halfway, costs a query. Without this a redelivered reading without ts would land
   * beside its first copy (another arrival time, another point).
   */
  async insert(reading: Reading, receivedAt = Date.now(), _delivery?: Delivery): Promise<"stored" | "duplicate"> {
    const line = readingLine(reading, receivedAt, reading.seq ?? this.#counter++);
    if (reading.seq === undefined) {
      await this.#write(line);
      return "stored";
    }
    const key = `${reading.device}\u0000${reading.seq}`;
    if (await this.#mayBeStored(reading.device, reading.seq)) {
      await this.#inFlight.get(key)?.catch(() => undefined);
      if (await this.#hasSequence(reading.device, reading.seq)) return "duplicate";
    }
    const written = this.#write(line);
    this.#inFlight.set(key, written);
    try {
      await written;
    } finally {
      if (this.#inFlight.get(key) === written) this.#inFlight.delete(key);
    }
    return "stored";
  }

  /** Whether (device, seq) might already be in InfluxDB; from then on it counts as tried. */
  async #mayBeStored(device: string, seq: number): Promise<boolean> {
    if (!this.#highestSeq.has(device)) {
      let loading = this.#loadingSeq.get(device);
      if (!loading) {
        loading = this.#select(`SELECT max(seq) FROM ${READINGS_MEASUREMENT} WHERE device = ${influxQlString(device)}`).then((rows) => {
          if (!this.#highestSeq.has(device)) this.#highestSeq.set(device, rows.length && rows[0]!.max !== null ? Number(rows[0]!.max) : -1);
        });
        this.#loadingSeq.set(device, loading);
        void loading.then(
          () => this.#loadingSeq.delete(device),
          () => this.#loadingSeq.delete(device),
        );
      }
      await loading;
    }
    const highest = this.#highestSeq.get(device)!;
    if (seq > highest) this.#highestSeq.set(device, seq);
    return seq <= highest;
  }

  async reject(topic: string, payload: Uint8Array, reason: string, receivedAt = Date.now()): Promise<void> {
    try {
      await this.#write(rejectLine(topic, Buffer.from(payload).toString("utf8"), reason, receivedAt, this.#counter++));
    } catch (error) {
      if (!(error instanceof ReadingRejected)) throw error;
      throw new ReadingsStoreError("store-failed", `${this.location} refused to keep a rejected message from ${topic}: ${error.message}`, { cause: error });
    }
  }

  async readings(query: ReadingQuery = {}): Promise<StoredReading[]> {
    const where: string[] = [];
    if (query.device !== undefined) where.push(`device = ${influxQlString(query.device)}`);
    if (query.since !== undefined) where.push(`${RECEIVED_AT_FIELD} >= ${Math.floor(query.since)}`);
    const rows = await this.#select(`SELECT * FROM ${READINGS_MEASUREMENT}${where.length ? ` WHERE ${where.join(" AND ")}` : ""}`);
    const readings = rows.map((row): StoredReading => {
      const fields: Reading["fields"] = {};
      let seq: number | undefined;
      let receivedAt = 0;
      for (const [name, value] of Object.entries(row)) {
        if (name === "time" || name === "device" || value === null) continue;
        if (name === "seq") seq = Number(value);
        else if (name === RECEIVED_AT_FIELD) receivedAt = Number(value);
        else fields[readingFieldName(name)] = value as Reading["fields"][string];
      }
      const timeMs = Number(row.time); // epoch=ms: the sub-millisecond part (see line-protocol.ts) is dropped
      return { device: String(row.device), seq, ts: timeMs === receivedAt ? undefined : timeMs, receivedAt, fields };
    });
    // As the SQL stores give them: per device, sequenced readings by seq, then the others by arrival.
    readings.sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : a.seq === undefined ? (b.seq === undefined ? a.receivedAt - b.receivedAt : 1) : b.seq === undefined ? -1 : a.seq - b.seq));
    return query.limit ? readings.slice(0, Math.floor(query.limit)) : readings;
  }

  async devices(): Promise<string[]> {
    const rows = await this.#select(`SHOW TAG VALUES FROM ${READINGS_MEASUREMENT} WITH KEY = "device"`);
    return rows.map((row) => String(row.value)).sort();
  }

  async rejects(): Promise<Reject[]> {
    const rows = await this.#select(`SELECT * FROM ${REJECTS_MEASUREMENT}`);
    return rows.map((row) => ({ receivedAt: Number(row[RECEIVED_AT_FIELD]), topic: String(row.topic), payload: String(row.payload), reason: String(row.reason) }));
  }

  async count(): Promise<{ readings: number; rejects: number }> {
    const count = async (measurement: string) => {
      const rows = await this.#select(`SELECT count(${RECEIVED_AT_FIELD}) FROM ${measurement}`);
      return rows.length ? Number(rows[0]!.count) : 0;
    };
    return { readings: await count(READINGS_MEASUREMENT), rejects: await count(REJECTS_MEASUREMENT) };
  }

  async close(): Promise<void> {
    while (this.#queue.length || this.#flushing) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  async #hasSequence(device: string, seq: number): Promise<boolean> {
    const rows = await this.#select(`SELECT count(seq) FROM ${READINGS_MEASUREMENT} WHERE device = ${influxQlString(device)} AND seq = ${seq}`);
    return rows.length > 0 && Number(rows[0]!.count) > 0;
  }

  /** Queues a line; lines queued in the same turn of the event loop go out together. */
  #write(line: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ line, resolve, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length) {
        const batch = this.#queue.splice(0, MAX_BATCH_LINES);
        try {
          await this.#post(batch.map((p) => p.line).join("\n"));
          for (const pending of batch) pending.resolve();
        } catch (error) {
          if (!(error instanceof ReadingRejected) || batch.length === 1) {
            for (const pending of batch) pending.reject(error);
            continue;
          }
          // One bad line refuses the whole batch: find it by sending them one at a time.
          for (const pending of batch) await this.#post(pending.line).then(pending.resolve, pending.reject);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  async #post(body: string): Promise<void> {
    const { base, database, org } = this.#target;
    const url = org
      ? `${base}/api/v2/write?${new URLSearchParams({ org, bucket: database, precision: "ns" })}`
      : `${base}/write?${new URLSearchParams({ db: database, precision: "ns" })}`;
    const response = await this.#request(url, { method: "POST", body, headers: { "content-type": "text/plain; charset=utf-8" } });
    if (response.status === 204 || response.status === 200) return;
    const text = await response.text().catch(() => "");
    if (response.status === 404 && !org && !this.#createdDatabase && /database not found/.test(text)) {
      await this.#createDatabase();
      return this.#post(body);
    }
    throw this.#failure(response.status, text);
  }

  /**
   * InfluxDB 1.x makes a database only when asked; the first write asks, once it has succeeded. A server that is
   * shutting down answers writes "database not found" and then refuses connections: that try does not count.
   */
  async #createDatabase(): Promise<void> {
    const response = await this.#request(`${this.#target.base}/query`, {
      method: "POST",
      body: new URLSearchParams({ q: `CREATE DATABASE "${this.#target.database.replace(/["\\]/g, (c) => `\\${c}`)}"` }),
    });
    if (!response.ok) throw this.#failure(response.status, await response.text().catch(() => ""), `the database ${this.#target.database} does not exist and could not be created`);
    this.#createdDatabase = true;
  }

  async #select(q: string): Promise<Record<string, unknown>[]> {
    const url = `${this.#target.base}/query?${new URLSearchParams({ db: this.#target.database, q, epoch: "ms" })}`;
    const response = await this.#request(url, { method: "GET" });
    const text = await response.text().catch(() => "");
    if (!response.ok) throw this.#failure(response.status, text);
    let answer: { results?: { error?: string; series?: { columns: string[]; values: unknown[][] }[] }[] };
    try {
      answer = JSON.parse(text);
    } catch {
      throw new ReadingsStoreError("store-failed", `${this.location} answered /query with something that is not JSON: ${text.slice(0, 120)}`);
    }
    const result = answer.results?.[0];
    if (result?.error) {
      if (/database not found/.test(result.error)) return [];
      throw new ReadingsStoreError("store-failed", `${this.location} refused the query: ${result.error}`);
    }
    return (result?.series ?? []).flatMap((series) => series.values.map((values) => Object.fromEntries(series.columns.map((column, i) => [column, values[i]]))));
  }

  async #request(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.#fetch(url, { ...init, headers: { ...this.#target.headers, ...(init.headers as Record<string, string> | undefined) }, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (error) {
      const code = String((error as { cause?: { code?: unknown } }).cause?.code ?? (error as Error).name);
      throw new ReadingsStoreError("store-unavailable", `${this.location} is not reachable (${code}); nothing was written — is the server running?`, { cause: error, transient: true });
    }
  }

  #failure(status: number, body: string, what = `${this.location} answered ${status}`): Error {
    const detail = extractError(body);
    if (status === 400 || status === 422) return new ReadingRejected("influx-refused", `InfluxDB refused it: ${detail}`);
    if (status === 413) return new ReadingRejected("too-large", `InfluxDB refused it as too large: ${detail}`);
    if (status === 401 || status === 403) {
      return new ReadingsStoreError("store-auth", `${what}: ${detail} — give a token with write access (?token= in the URL or INFLUX_TOKEN) or user:password@ in the URL`);
    }
    if (status === 404) return new ReadingsStoreError("store-missing", `${what}: ${detail} — create the ${this.#target.org ? "bucket" : "database"} ${this.#target.database} first`);
    if (status === 429 || status >= 500) return new ReadingsStoreError("store-unavailable", `${what}: ${detail}; nothing was written`, { transient: true });
    return new ReadingsStoreError("store-failed", `${what}: ${detail}`);
  }
}

/** InfluxDB answers {"error": "…"} (1.x) or {"code": …, "message": "…"} (2.x). */
function extractError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    const text = parsed.error ?? parsed.message;
    if (typeof text === "string") return text;
  } catch {
    // not JSON: the text itself
  }
  return body.trim().slice(0, 300) || "(no details)";
}
