import type { StoredReading } from "./readings-store.ts";

/**
 * Readings as RFC 4180 CSV: device, seq, ts and received_at (ISO 8601), then one column per field any reading has,
 * in alphabetical order; CRLF line ends; fields quoted when they hold a comma, quote or line break.
 */
export function readingsToCsv(readings: StoredReading[]): string {
  const fieldNames = [...new Set(readings.flatMap((reading) => Object.keys(reading.fields)))].sort();
  const header = ["device", "seq", "ts", "received_at", ...fieldNames];
  const rows = readings.map((reading) => [
    reading.device,
    reading.seq === undefined ? "" : String(reading.seq),
    reading.ts === undefined ? "" : new Date(reading.ts).toISOString(),
    new Date(reading.receivedAt).toISOString(),
    ...fieldNames.map((name) => {
      const value = reading.fields[name];
      return value === undefined || value === null ? "" : String(value);
    }),
  ]);
  return [header, ...rows].map((row) => row.map(quote).join(",")).join("\r\n") + "\r\n";
}

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}
