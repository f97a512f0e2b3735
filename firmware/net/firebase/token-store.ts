import type { Storage } from "../../ports/storage.ts";

/**
 * Keeps a long string in NVS-shaped Storage. A Google refresh token is a few hundred characters, well under NVS's
 * 4000 bytes a key, but nothing promises it stays that short, so longer values are split over numbered keys.
 */
const PIECE_CHARS = 1000; // ≤ 3000 UTF-8 bytes even for non-ASCII text

export function saveLongString(storage: Storage, domain: string, key: string, value: string): void {
  const pieces: string[] = [];
  for (let at = 0; at < value.length; at += PIECE_CHARS) pieces.push(value.slice(at, at + PIECE_CHARS));
  if (pieces.length === 0) pieces.push("");
  const previous = storage.get(domain, `${key}#`);
  for (let i = 0; i < pieces.length; i++) storage.set(domain, `${key}${i}`, pieces[i]!);
  // The count goes last and stale pieces after it. A reset mid-write can leave a mixed token; the server then
  // rejects it as INVALID_REFRESH_TOKEN, which says to sign in again, rather than the device using a wrong one.
  storage.set(domain, `${key}#`, pieces.length);
  if (typeof previous === "number") for (let i = pieces.length; i < previous; i++) storage.delete(domain, `${key}${i}`);
}

export function loadLongString(storage: Storage, domain: string, key: string): string | undefined {
  const count = storage.get(domain, `${key}#`);
  if (typeof count !== "number") return undefined;
  let value = "";
  for (let i = 0; i < count; i++) {
    const piece = storage.get(domain, `${key}${i}`);
    if (typeof piece !== "string") return undefined;
    value += piece;
  }
  return value;
}

export function deleteLongString(storage: Storage, domain: string, key: string): void {
  const count = storage.get(domain, `${key}#`);
  storage.delete(domain, `${key}#`);
  if (typeof count === "number") for (let i = 0; i < count; i++) storage.delete(domain, `${key}${i}`);
}
