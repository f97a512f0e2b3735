/**
 * The outgoing queue of QoS 1/2 messages, kept in Storage so a reboot loses none. A ring of keys `m0…m<capacity-1>`
 * in one Storage domain, one message per key (NVS holds at most 4000 bytes per value, so a message whose topic and
 * payload exceed OUTBOX_MAX_RECORD − header is refused, not split: splitting would hand the subscriber fragments it
 * cannot reassemble). Each record carries its sequence number, so head and tail are recovered at start-up by reading
 * the records — one flash write per message queued, one delete per message acknowledged, and a second write only
 * when a QoS 2 message reaches PUBREC.
 *
 * RAM holds only a small descriptor per message; topic and payload are read back from Storage to (re)send.
 *
 * Record layout: [0] version 1, [1] flags (bits 0–1 QoS, bit 2 retain, bit 3 released = PUBREC received),
 * [2..5] sequence (u32 BE), [6..7] packet id, [8..9] topic length, topic UTF-8, payload.
 */
import { utf8DecodeStrict, utf8Encode } from "../../core/utf8.ts";
import { EsplabError } from "../../core/errors.ts";
import { MqttUsageError } from "./errors.ts";
import type { QoS } from "./packets.ts";
import { STORAGE_NAME_LIMIT, STORAGE_VALUE_LIMIT, type Storage } from "../../ports/storage.ts";

export const OUTBOX_RECORD_HEADER = 10;
export const OUTBOX_MAX_RECORD = STORAGE_VALUE_LIMIT;
const VERSION = 1;

export interface OutboxEntry {
  readonly seq: number;
  readonly key: string;
  readonly packetId: number;
  readonly qos: 1 | 2;
  readonly retain: boolean;
  /** PUBREC arrived: the broker owns the message; only PUBREL/PUBCOMP remain. */
  released: boolean;
  /** Sent at least once (in this boot or, after a reboot, possibly before it): resend with DUP. */
  sent: boolean;
  /** Sent on the current connection and not yet acknowledged. */
  inflight: boolean;
}

export interface StoredMessage {
  topic: string;
  payload: Uint8Array;
}

/** The queue holds `capacity` messages and has no room for another. */
export class MqttQueueFullError extends EsplabError {}

export class Outbox {
  readonly capacity: number;
  readonly #storage: Storage;
  readonly #domain: string;
  #entries: OutboxEntry[] = [];
  #nextSeq = 0;
  /** Records that could not be read back at load (corrupt or foreign), removed. */
  readonly discarded: string[] = [];

  constructor(storage: Storage, domain: string, capacity: number) {
    if (domain.length === 0 || domain.length > STORAGE_NAME_LIMIT) {
      throw new MqttUsageError("BAD_QUEUE_DOMAIN", `queue storage domain "${domain}" must be 1–${STORAGE_NAME_LIMIT} characters (the NVS limit)`);
    }
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 10_000) {
      throw new MqttUsageError("BAD_QUEUE_CAPACITY", `queue capacity must be 1–10000 messages; got ${capacity}`);
    }
    this.#storage = storage;
    this.#domain = domain;
    this.capacity = capacity;
    this.#load();
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Oldest first. */
  get entries(): readonly OutboxEntry[] {
    return this.#entries;
  }

  /** The largest payload a message on `topic` may have to fit one storage record. */
  static maxPayload(topicBytes: number): number {
    return OUTBOX_MAX_RECORD - OUTBOX_RECORD_HEADER - topicBytes;
  }

  /** Stores a message durably and returns its descriptor; throws before storing anything if it cannot. */
  add(topic: string, payload: Uint8Array, qos: 1 | 2, retain: boolean, packetId: number): OutboxEntry {
    if (this.#entries.length >= this.capacity || this.#slotTaken(this.#nextSeq)) {
      throw new MqttQueueFullError(
        "QUEUE_FULL",
        `the outgoing queue holds ${this.#entries.length} unacknowledged messages (capacity ${this.capacity}); wait for the broker to acknowledge some, or raise queueCapacity`,
      );
    }
    const topicBytes = utf8Encode(topic);
    const size = OUTBOX_RECORD_HEADER + topicBytes.length + payload.length;
    if (size > OUTBOX_MAX_RECORD) {
      throw new MqttUsageError(
        "MESSAGE_TOO_LARGE_TO_QUEUE",
        `a QoS ${qos} message is stored in one ${OUTBOX_MAX_RECORD}-byte NVS record so a reboot cannot lose it; this one needs ${size} bytes (payload ${payload.length}, topic ${topicBytes.length}, header ${OUTBOX_RECORD_HEADER}). Keep payloads ≤ ${Outbox.maxPayload(topicBytes.length)} bytes on this topic, split the data into separate messages, or publish it with QoS 0`,
      );
    }
    const seq = this.#nextSeq;
    const entry: OutboxEntry = { seq, key: this.#key(seq), packetId, qos, retain, released: false, sent: false, inflight: false };
    this.#storage.set(this.#domain, entry.key, encodeRecord(entry, topicBytes, payload));
    this.#nextSeq = (seq + 1) >>> 0;
    this.#entries.push(entry);
    return entry;
  }

  /** Topic and payload from storage; undefined if the record has vanished. */
  read(entry: OutboxEntry): StoredMessage | undefined {
    const value = this.#storage.get(this.#domain, entry.key);
    if (!(value instanceof ArrayBuffer)) return undefined;
    const record = decodeRecord(new Uint8Array(value));
    return record && record.seq === entry.seq ? { topic: record.topic, payload: record.payload } : undefined;
  }

  /** Records PUBREC durably, so after a reboot PUBREL (not PUBLISH) is what gets resent. */
  markReleased(entry: OutboxEntry): void {
    if (entry.released) return;
    const stored = this.read(entry);
    entry.released = true;
    if (stored) this.#storage.set(this.#domain, entry.key, encodeRecord(entry, utf8Encode(stored.topic), stored.payload));
  }

  remove(entry: OutboxEntry): void {
    const index = this.#entries.indexOf(entry);
    if (index < 0) return;
    this.#entries.splice(index, 1);
    this.#storage.delete(this.#domain, entry.key);
  }

  find(packetId: number): OutboxEntry | undefined {
    return this.#entries.find((entry) => entry.packetId === packetId);
  }

  #key(seq: number): string {
    return `m${seq % this.capacity}`;
  }

  /** After a capacity change an old record may sit in the slot the next sequence number maps to. */
  #slotTaken(seq: number): boolean {
    const key = this.#key(seq);
    return this.#entries.some((entry) => entry.key === key);
  }

  #load(): void {
    const loaded: OutboxEntry[] = [];
    for (const key of this.#storage.keys(this.#domain)) {
      const value = this.#storage.get(this.#domain, key);
      const record = value instanceof ArrayBuffer ? decodeRecord(new Uint8Array(value)) : undefined;
      if (!record || !/^m\d+$/.test(key)) {
        this.discarded.push(key);
        this.#storage.delete(this.#domain, key);
        continue;
      }
      loaded.push({ seq: record.seq, key, packetId: record.packetId, qos: record.qos, retain: record.retain, released: record.released, sent: true, inflight: false });
    }
    // sequence numbers are u32 and may have wrapped: order by distance from the oldest
    loaded.sort((a, b) => a.seq - b.seq);
    if (loaded.length > 1 && loaded[loaded.length - 1]!.seq - loaded[0]!.seq > 0x8000_0000) {
      loaded.sort((a, b) => ((a.seq + 0x8000_0000) >>> 0) - ((b.seq + 0x8000_0000) >>> 0));
    }
    this.#entries = loaded;
    this.#nextSeq = loaded.length ? (loaded[loaded.length - 1]!.seq + 1) >>> 0 : 0;
  }
}

function encodeRecord(entry: OutboxEntry, topic: Uint8Array, payload: Uint8Array): ArrayBuffer {
  const out = new Uint8Array(OUTBOX_RECORD_HEADER + topic.length + payload.length);
  out[0] = VERSION;
  out[1] = entry.qos | (entry.retain ? 4 : 0) | (entry.released ? 8 : 0);
  out[2] = entry.seq >>> 24;
  out[3] = (entry.seq >>> 16) & 0xff;
  out[4] = (entry.seq >>> 8) & 0xff;
  out[5] = entry.seq & 0xff;
  out[6] = entry.packetId >> 8;
  out[7] = entry.packetId & 0xff;
  out[8] = topic.length >> 8;
  out[9] = topic.length & 0xff;
  out.set(topic, OUTBOX_RECORD_HEADER);
  out.set(payload, OUTBOX_RECORD_HEADER + topic.length);
  return out.buffer;
}

function decodeRecord(bytes: Uint8Array):
  | { seq: number; packetId: number; qos: 1 | 2; retain: boolean; released: boolean; topic: string; payload: Uint8Array }
  | undefined {
  if (bytes.length < OUTBOX_RECORD_HEADER || bytes[0] !== VERSION) return undefined;
  const qos = (bytes[1]! & 3) as QoS;
  if (qos !== 1 && qos !== 2) return undefined;
  const packetId = (bytes[6]! << 8) | bytes[7]!;
  const topicLength = (bytes[8]! << 8) | bytes[9]!;
  if (packetId === 0 || OUTBOX_RECORD_HEADER + topicLength > bytes.length) return undefined;
  const topic = utf8DecodeStrict(bytes, OUTBOX_RECORD_HEADER, OUTBOX_RECORD_HEADER + topicLength);
  if (!topic.ok || topic.text.length === 0) return undefined;
  return {
    seq: ((bytes[2]! << 24) | (bytes[3]! << 16) | (bytes[4]! << 8) | bytes[5]!) >>> 0,
    packetId,
    qos,
    retain: (bytes[1]! & 4) !== 0,
    released: (bytes[1]! & 8) !== 0,
    topic: topic.text,
    payload: bytes.slice(OUTBOX_RECORD_HEADER + topicLength),
  };
}
