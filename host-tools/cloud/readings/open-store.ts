/**
 * Opens the readings store a `--db` names: a SQLite file (a path, or sqlite:PATH; the embedded default),
 * postgres://… (or postgresql://…) or influx://… (influxs:// over HTTPS).
 */
import { UsageError } from "../../../firmware/core/errors.ts";
import { InfluxReadingsStore } from "./influx-store.ts";
import { PostgresReadingsStore } from "./postgres-store.ts";
import type { ReadingsStorage } from "./readings-storage.ts";
import { ReadingsStore } from "./readings-store.ts";

export const DB_FORMS = "a SQLite file (readings.sqlite), postgres://user:password@host:5432/DATABASE or influx://host:8086/DATABASE";

export function openReadingsStore(db: string): ReadingsStorage {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(db)?.[1]?.toLowerCase();
  if (scheme === undefined) return new ReadingsStore(db.startsWith("sqlite:") ? db.slice("sqlite:".length) : db);
  if (scheme === "postgres" || scheme === "postgresql") return new PostgresReadingsStore(db);
  if (scheme === "influx" || scheme === "influxs") return new InfluxReadingsStore(db);
  if (scheme === "sqlite") return new ReadingsStore(db.slice("sqlite://".length));
  throw new UsageError("bad-db", `--db ${db}: ${scheme}:// is not a readings store esplab knows; give ${DB_FORMS}`);
}

/** A store's location is a file when it is SQLite: the commands that read one check it exists first. */
export function isFileStore(db: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(db) || db.startsWith("sqlite://");
}
