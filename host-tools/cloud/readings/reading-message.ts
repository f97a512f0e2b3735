import { EsplabError } from "../../../firmware/core/errors.ts";

/**
 * A reading as a device publishes it on `sensor/<device>`: a JSON object, with a sequence number when the device
 * keeps one (esplab's telemetry app does; the course's `mosquitto_pub -m '{"temp":22}'` does not).
 */
export interface Reading {
  device: string;
  /** The device's sequence number, or undefined when the message has none. */
  seq: number | undefined;
  /** Device time (ms since the epoch) when it had a clock, else undefined. */
  ts: number | undefined;
  /** The payload's other fields (numbers, booleans, strings, null). */
  fields: Record<string, number | boolean | string | null>;
}

/** Why a message is not a reading; it is kept in the rejects table with this reason. */
export class ReadingRejected extends EsplabError {}

const MAX_PAYLOAD = 64 * 1024;
/** The largest time a JavaScript Date holds. */
const MAX_DATE_MS = 8.64e15;

/** Parses one MQTT message into a Reading; throws only ReadingRejected. */
export function parseReadingMessage(topic: string, payload: Uint8Array): Reading {
  const match = /^sensor\/([^/]{1,64})$/.exec(topic);
  if (!match) throw new ReadingRejected("bad-topic", `topic "${topic}" is not sensor/<device>`);
  if (payload.length > MAX_PAYLOAD) throw new ReadingRejected("too-large", `payload of ${payload.length} bytes is over ${MAX_PAYLOAD}`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(payload);
  } catch {
    throw new ReadingRejected("not-utf8", "payload is not UTF-8 text");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ReadingRejected("not-json", `payload is not JSON (${(error as Error).message})`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new ReadingRejected("not-object", "payload is not a JSON object");
  const object = value as Record<string, unknown>;
  const seq = object.seq ?? undefined;
  if (seq !== undefined && (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0)) throw new ReadingRejected("bad-seq", `"seq", when given, must be a whole number ≥ 0, got ${JSON.stringify(seq)}`);
  const ts = object.ts;
  if (ts !== undefined && ts !== null && (typeof ts !== "number" || !Number.isFinite(ts) || Math.abs(ts) > MAX_DATE_MS)) throw new ReadingRejected("bad-ts", `"ts" must be a number of milliseconds or null, got ${JSON.stringify(ts)}`);
  const fields: Reading["fields"] = {};
  for (const [key, field] of Object.entries(object)) {
    if (key === "seq" || key === "ts") continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(key)) throw new ReadingRejected("bad-field", `field name ${JSON.stringify(key.slice(0, 70))} is not a plain name`);
    if (field !== null && !["number", "boolean", "string"].includes(typeof field)) throw new ReadingRejected("bad-field", `field "${key}" must be a number, boolean, string or null`);
    if (typeof field === "number" && !Number.isFinite(field)) throw new ReadingRejected("bad-field", `field "${key}" is not a finite number`);
    fields[key] = field as Reading["fields"][string];
  }
  return { device: match[1]!, seq: seq as number | undefined, ts: typeof ts === "number" ? ts : undefined, fields };
}
