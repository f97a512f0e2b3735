/**
 * What every readings store offers — SQLite (embedded, synchronous), PostgreSQL and InfluxDB (over the network,
 * asynchronous) — so the subscriber, the rules engine, the dashboard and the CLI work with any of them.
 *
 * The contract that makes acknowledging safe: once insert() (or reject()) has resolved, the reading survives a crash
 * of this process and of the database server. A failure waiting can fix throws a ReadingsStoreError with
 * `transient` set (the reading stays unacknowledged and is offered again); content the database can never hold
 * throws ReadingRejected (the message is kept as a reject instead).
 */
import type { Reading } from "./reading-message.ts";
import type { Delivery, ReadingQuery, Reject, StoredReading } from "./readings-store.ts";

export type Awaitable<T> = T | Promise<T>;

export interface ReadingsStorage {
  /** Where readings go, for status lines: a file, or a URL without its password. */
  readonly location: string;
  /** "duplicate" when the reading is already stored (a redelivery): the first copy is kept. */
  insert(reading: Reading, receivedAt?: number, delivery?: Delivery): Awaitable<"stored" | "duplicate">;
  /** Keeps a message that is not a reading, with the reason. */
  reject(topic: string, payload: Uint8Array, reason: string, receivedAt?: number): Awaitable<void>;
  /** Readings per device, in sequence order (those without seq in arrival order). */
  readings(query?: ReadingQuery): Awaitable<StoredReading[]>;
  /** The devices that have readings, sorted. */
  devices(): Awaitable<string[]>;
  rejects(): Awaitable<Reject[]>;
  count(): Awaitable<{ readings: number; rejects: number }>;
  close(): Awaitable<void>;
}
