import { Backoff } from "../../../firmware/core/backoff.ts";
import { UsageError, type EsplabError } from "../../../firmware/core/errors.ts";
import { brokerTarget } from "../../../firmware/net/mqtt/broker-url.ts";
import { MqttClient } from "../../../firmware/net/mqtt/client.ts";
import { NodeTransport } from "../../platform/node-transport.ts";
import { SystemClock } from "../../platform/system-clock.ts";
import { ReadingRejected, parseReadingMessage } from "./reading-message.ts";
import type { ReadingsStorage } from "./readings-storage.ts";
import { ReadingsStoreError } from "./readings-store.ts";

export interface SubscriberOptions {
  /** mqtt://host:port (or mqtts://). */
  brokerUrl: string;
  store: ReadingsStorage;
  topic?: string;
  username?: string;
  password?: string;
  /** The broker keeps this client's session (and QoS 1 readings) while it is away. Default "esplab-readings". */
  clientId?: string;
  onReading?: (outcome: { device: string; seq: number | undefined; result: "stored" | "duplicate" }) => void;
  onReject?: (reject: { topic: string; reason: string }) => void;
  onStatus?: (line: string) => void;
}

export interface Subscriber {
  /** Resolves once subscribed; rejects with the broker's refusal explained. */
  ready: Promise<void>;
  /**
   * Rejects if storing fails in a way waiting cannot fix (the reading is not acknowledged, so the broker keeps it).
   * A full disk or a locked database is not a failure: the reading stays unacknowledged and is stored once it can be.
   */
  failed: Promise<never>;
  close(): void;
}

/**
 * The course's server side: subscribes to `sensor/#` with a persistent session at QoS 1 and stores every reading.
 * A reading is stored durably (any store: see readings-storage.ts) before its PUBACK leaves, so an acknowledged reading is never lost. If storing
 * fails the connection is dropped without acknowledging, so the broker keeps the reading: a full disk, a database
 * another program has locked or a database server that is down is retried (reconnecting after 1 s, then longer, up to 30 s) and the reading is stored
 * once space or the lock returns; any other failure stops the subscriber (`failed`).
 */
export function subscribeReadings(options: SubscriberOptions): Subscriber {
  const status = options.onStatus ?? (() => {});
  const client = new MqttClient({
    transport: new NodeTransport(),
    clock: new SystemClock(),
    target: brokerTarget(options.brokerUrl),
    clientId: options.clientId ?? "esplab-readings",
    cleanSession: false,
    username: options.username,
    password: options.password,
    reconnect: { initialMs: 500, maxMs: 10_000 },
  });
  let fail: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  client.on("connected", ({ sessionPresent }) => status(`connected to ${options.brokerUrl}${sessionPresent ? " (session resumed: readings sent meanwhile follow)" : ""}`));
  client.on("disconnected", ({ error, reconnectInMs }) => {
    if (error instanceof ReadingsStoreError) return; // the store's failure was reported with its retry already
    status(`disconnected${error ? `: ${error.message}` : ""}${reconnectInMs !== undefined ? `; retrying in ${(reconnectInMs / 1000).toFixed(1)} s` : ""}`);
  });
  const topic = options.topic ?? "sensor/#";
  const storeRetry = new Backoff({ initialMs: 1000, maxMs: 30_000, jitter: 0.2 });
  // One failure is enough to drop a connection: readings in flight on it stay unacknowledged too, and failures of
  // readings from an earlier connection (already dropped) change nothing.
  let connection = 0;
  let interruptedConnection = -1;
  client.on("connected", () => connection++);
  // The handler is registered before connecting: a resumed session delivers the readings sent meanwhile right after
  // CONNACK, and the client acknowledges only what a handler has taken — here, once the store has it durably.
  const subscribed = client.subscribe(
    topic,
    async (message) => {
      const arrivedOn = connection;
      try {
        try {
          const reading = parseReadingMessage(message.topic, message.payload);
          const result = await options.store.insert(reading, Date.now(), { packetId: message.packetId, dup: message.dup });
          storeRetry.reset();
          options.onReading?.({ device: reading.device, seq: reading.seq, result });
        } catch (error) {
          if (!(error instanceof ReadingRejected)) throw error;
          await options.store.reject(message.topic, message.payload, error.message);
          storeRetry.reset();
          options.onReject?.({ topic: message.topic, reason: error.message });
        }
      } catch (error) {
        // Not stored: drop the link before the acknowledgement goes out; the broker keeps the message.
        if (arrivedOn !== connection || interruptedConnection === connection) return;
        interruptedConnection = connection;
        if (error instanceof ReadingsStoreError && error.transient) {
          const afterMs = storeRetry.next();
          status(`could not store a reading from ${message.topic}: ${error.message}; it was not acknowledged (the broker keeps it) — trying again in ${(afterMs / 1000).toFixed(1)} s`);
          client.interrupt(error, { afterMs });
          return;
        }
        client.close({ abrupt: true });
        fail(new UsageError("store-failed", `could not store a reading from ${message.topic}: ${(error as Error).message}; it was not acknowledged and the broker keeps it`, { cause: error }));
      }
    },
    { qos: 1 },
  );
  const ready = Promise.all([client.connect(), subscribed])
    .then(() => status(`subscribed to ${topic}`))
    .catch((error: EsplabError) => {
      client.close();
      throw error;
    });
  return { ready, failed, close: () => client.close() };
}
