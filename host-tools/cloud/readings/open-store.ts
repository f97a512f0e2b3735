/**
 * Opens the readings store a `--db` names: a SQLite file (a path, or sqlite:PATH), the embedded default.
 */
import { ReadingsStore } from "./readings-store.ts";

export async function openReadingsStore(db: string): Promise<ReadingsStore> {
  return new ReadingsStore(db.startsWith("sqlite:") ? db.slice("sqlite:".length) : db);
}
