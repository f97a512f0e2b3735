/**
 * InfluxDB line protocol for readings (https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/):
 * `readings,device=<device> <field>=<value>,…,seq=<n>i,esplab_received_at=<ms>i <ns>`. Numbers are written as
 * floats (a field that is 1 in one reading and 1.5 in the next stays one type), booleans as true/false, strings
 * quoted; a null field is left out (InfluxDB has no null).
 *
 * The point's time is the device's ts, or the arrival time when the reading has none, in nanoseconds with the
 * sequence number in the sub-millisecond digits: InfluxDB keeps one point per (measurement, tags, time), so two
 * readings in the same millisecond stay two points, and a redelivered reading with ts lands on its own point again.
 * Reading back, a point whose time is its arrival time is a reading without ts (a device clock that matches the
 * arrival to the millisecond reads back without its ts).
 */
import { ReadingRejected, type Reading } from "./reading-message.ts";

export const READINGS_MEASUREMENT = "readings";
export const REJECTS_MEASUREMENT = "rejects";
/** The arrival time, kept as a field so readings can be selected by it (the dashboard's "since"). */
export const RECEIVED_AT_FIELD = "esplab_received_at";

/** Field names InfluxDB reserves or that would shadow the device tag, and what they are stored as. */
const RENAMED_FIELDS: Record<string, string> = { time: "time_field", device: "device_field" };
const RESTORED_FIELDS = Object.fromEntries(Object.entries(RENAMED_FIELDS).map(([from, to]) => [to, from]));

export function storedFieldName(name: string): string {
  return RENAMED_FIELDS[name] ?? name;
}

export function readingFieldName(stored: string): string {
  return RESTORED_FIELDS[stored] ?? stored;
}

/**
 * Tag keys and values, and field keys: commas, equals signs and spaces are escaped with a backslash (a backslash
 * itself is not an escape there, which is why a device name holding one is refused).
 */
function escapeKey(text: string): string {
  return text.replace(/[,= ]/g, (c) => `\\${c}`);
}

function stringField(text: string): string {
  return `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function fieldValue(value: number | boolean | string): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  return stringField(value);
}

/** A tag value cannot hold a line break (nothing escapes one), and a backslash in one is ambiguous. */
function checkTag(device: string): void {
  if (/[\r\n\0\\]/.test(device)) throw new ReadingRejected("bad-device", `device name ${JSON.stringify(device)} holds a line break or a backslash, which an InfluxDB tag cannot hold unambiguously`);
}

/** Nanoseconds since the epoch: the millisecond time, plus a sub-millisecond part below one million. */
export function pointTime(ms: number, subMs: number): string {
  return (BigInt(Math.floor(ms)) * 1_000_000n + BigInt(subMs % 1_000_000)).toString();
}

export function readingLine(reading: Reading, receivedAt: number, subMs: number): string {
  checkTag(reading.device);
  const fields: string[] = [];
  for (const [name, value] of Object.entries(reading.fields)) {
    if (value === null) continue;
    fields.push(`${escapeKey(storedFieldName(name))}=${fieldValue(value)}`);
  }
  if (reading.seq !== undefined) fields.push(`seq=${reading.seq}i`);
  fields.push(`${RECEIVED_AT_FIELD}=${Math.floor(receivedAt)}i`);
  return `${READINGS_MEASUREMENT},device=${escapeKey(reading.device)} ${fields.join(",")} ${pointTime(reading.ts ?? receivedAt, subMs)}`;
}

/** InfluxDB 1.x keeps string fields up to 64 KiB; a reject's payload is cut to fit (it is kept for diagnosis). */
const MAX_STRING = 60_000;

export function rejectLine(topic: string, payload: string, reason: string, receivedAt: number, subMs: number): string {
  const cut = payload.length > MAX_STRING ? `${payload.slice(0, MAX_STRING)}… (${payload.length} characters in all)` : payload;
  return `${REJECTS_MEASUREMENT} topic=${stringField(topic)},payload=${stringField(cut)},reason=${stringField(reason)},${RECEIVED_AT_FIELD}=${Math.floor(receivedAt)}i ${pointTime(receivedAt, subMs)}`;
}

/** An InfluxQL string literal. */
export function influxQlString(text: string): string {
  return `'${text.replace(/['\\]/g, (c) => `\\${c}`)}'`;
}
