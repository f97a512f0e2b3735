/**
 * A portable MQTT 3.1.1 client on the Transport and Clock seams (the coreMQTT shape: it owns no socket and no timer
 * source). QoS 0/1/2 both ways, persistent or clean sessions, Last Will, keepalive with ping timeout, reconnect with
 * capped exponential backoff and jitter, resubscription, and an outgoing QoS ≥ 1 queue kept in Storage so that
 * neither a dropped link nor a reboot loses a message the application handed over.
 *
 * States: idle → connecting (transport) → awaiting-connack → connected; any failure → backing-off → connecting…;
 * close() → closed (final). A refusal that retrying cannot fix (CONNACK 1, 2, 4, 5) also ends in closed.
 */
import { Backoff } from "../../core/backoff.ts";
import { EsplabError } from "../../core/errors.ts";
import { utf8Encode, utf8Length } from "../../core/utf8.ts";
import type { Clock, TimerHandle } from "../../ports/clock.ts";
import type { Storage } from "../../ports/storage.ts";
import type { Connection, ConnectTarget, Transport } from "../../ports/transport.ts";
import { explainConnack, isPermanentRefusal } from "./connack.ts";
import { DEFAULT_MAX_PACKET_SIZE, MqttDecoder } from "./decoder.ts";
import { encodePacket } from "./encode.ts";
import { MqttConnectionError, MqttConnectionRefusedError, MqttProtocolError, MqttSubscribeError, MqttUsageError } from "./errors.ts";
import { Emitter } from "./events.ts";
import { Outbox, type OutboxEntry } from "./outbox.ts";
import { PacketIds } from "./packet-ids.ts";
import { SUBACK_FAILURE, type MqttPacket, type PublishPacket, type QoS, type Will } from "./packets.ts";
import { RamStorage } from "./ram-storage.ts";
import { slashCount, topicFilterProblem, topicMatches, topicNameProblem } from "./topics.ts";

export type MqttClientState = "idle" | "connecting" | "awaiting-connack" | "connected" | "backing-off" | "closed";

export interface MqttMessage {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  /** Set by the broker on a redelivery (after a reconnect, the same packet id as the first copy). */
  dup: boolean;
  /** The broker's packet id for QoS 1 and 2; undefined for QoS 0. */
  packetId?: number;
}

/**
 * Takes one message. A handler that returns a promise (storing the message somewhere, say) has its QoS 1/2 message
 * acknowledged only once the promise settles; acknowledgements still leave in arrival order, as MQTT requires.
 */
export type MessageHandler = (message: MqttMessage) => unknown;

/** An incoming QoS ≥ 1 message handed to its handlers, whose acknowledgement waits for them (and those before it). */
interface PendingAck {
  packetId: number;
  qos: 1 | 2;
  settled: boolean;
}

/** Limits a broker profile imposes beyond MQTT itself (AWS IoT Core: QoS ≤ 1, 128 KB, 8 filters, 7 slashes). */
export interface MqttLimits {
  maxQos?: QoS;
  maxPayloadBytes?: number;
  maxFiltersPerSubscribe?: number;
  maxTopicSlashes?: number;
  /** Names the profile in error messages, e.g. "AWS IoT Core". */
  profile?: string;
}

export interface MqttClientOptions {
  transport: Transport;
  clock: Clock;
  /** Where to connect: host, port, TLS options. */
  target: ConnectTarget;
  clientId: string;
  /** true: the broker forgets subscriptions and queued messages at each connect. Default true. */
  cleanSession?: boolean;
  /** Seconds; 0 disables keepalive. Default 60. */
  keepAliveSeconds?: number;
  username?: string;
  password?: string | Uint8Array;
  will?: { topic: string; payload: string | Uint8Array; qos?: QoS; retain?: boolean };
  /** Durable storage for the QoS ≥ 1 queue; without it the queue lives in RAM and does not survive a reboot. */
  storage?: Storage;
  /** Storage domain of the queue (≤ 15 characters); one per client on a device. Default "mqtt-out". */
  queueDomain?: string;
  /** Messages the outgoing queue holds before publish() refuses. Default 64. */
  queueCapacity?: number;
  /**
   * Incoming QoS ≥ 1 messages kept unacknowledged while no subscription handler matches their topic (a persistent
   * session's backlog arriving right after CONNACK, before subscribe()). Beyond this many, a message is left
   * unacknowledged and not kept, so the broker sends it again at the next connection. Default 64.
   */
  holdCapacity?: number;
  /** QoS ≥ 1 messages sent and not yet acknowledged at once. Default 8. */
  maxInflight?: number;
  /** Largest packet accepted or sent, fixed header included. Default 64 KiB. */
  maxPacketSize?: number;
  /** How long to wait for CONNACK after the transport opens. Default 10 s. */
  connackTimeoutMs?: number;
  /** How long to wait for PINGRESP. Default min(keepalive / 2, 10 s). */
  pingTimeoutMs?: number;
  /** Reconnect backoff; false to give up at the first failure. Default 1 s doubling to 60 s, ±30 % jitter. */
  reconnect?: false | { initialMs?: number; maxMs?: number; factor?: number; jitter?: number; random?: () => number };
  /** Reconnect even after CONNACK 1, 2, 4 or 5 (e.g. while a cloud policy is being attached). Default false. */
  retryRefused?: boolean;
  limits?: MqttLimits;
}

export interface MqttClientEvents extends Record<string, unknown> {
  connected: { sessionPresent: boolean };
  disconnected: { error: EsplabError | undefined; reconnectInMs: number | undefined };
  /** Something failed that the client handled (protocol error, refused subscription after a reconnect, handler threw). */
  error: EsplabError;
  /**
   * Every application message handed on: at arrival, or — for a QoS ≥ 1 message that arrived before a handler for
   * its topic existed — when subscribe() registers one. A QoS 0 message no handler matches is emitted and dropped.
   */
  message: MqttMessage;
  /** A QoS ≥ 1 message from the queue was acknowledged (PUBACK or PUBCOMP), including ones queued before a reboot. */
  delivered: { seq: number; packetId: number; qos: 1 | 2 };
}

export interface SubscribeResult {
  filter: string;
  /** The QoS the broker granted, or undefined when it refused (then `error` says why). */
  granted: QoS | undefined;
  error?: MqttSubscribeError;
}

interface Subscription {
  filter: string;
  qos: QoS;
  handler: MessageHandler;
  /** SUBACK received for it on the current session. */
  active: boolean;
}

interface Request {
  kind: "subscribe" | "unsubscribe";
  entries: { filter: string; qos: QoS }[];
  /** Packet id on the current connection; undefined until sent. */
  packetId: number | undefined;
  resolve(results: SubscribeResult[]): void;
  reject(error: EsplabError): void;
}

/** An incoming QoS ≥ 1 PUBLISH no handler has taken yet: not acknowledged until one does. */
interface Held {
  message: MqttMessage;
  packetId: number;
}

interface Waiter {
  resolve(): void;
  reject(error: EsplabError): void;
}

const MAX_INCOMING_QOS2 = 256;
const DEFAULT_HOLD_CAPACITY = 64;

export class MqttClient {
  readonly clientId: string;
  readonly #transport: Transport;
  readonly #clock: Clock;
  readonly #target: ConnectTarget;
  readonly #broker: string;
  readonly #cleanSession: boolean;
  readonly #keepAliveMs: number;
  readonly #pingTimeoutMs: number;
  readonly #connackTimeoutMs: number;
  readonly #maxInflight: number;
  readonly #maxPacketSize: number;
  readonly #retryRefused: boolean;
  readonly #limits: MqttLimits;
  readonly #connectPacket: MqttPacket;
  readonly #backoff: Backoff | undefined;
  readonly #events = new Emitter<MqttClientEvents>();
  readonly #decoder: MqttDecoder;
  readonly #outbox: Outbox;
  readonly #ids = new PacketIds();
  readonly #subscriptions = new Map<string, Subscription>();
  #requests: Request[] = [];
  /** Promises of publish() calls in this boot, by queue sequence number. */
  readonly #waiters = new Map<number, Waiter>();
  /** Incoming QoS 2 packet ids between PUBREC and PUBREL: a redelivery of one of these is not handed on again. */
  readonly #incomingQos2 = new Set<number>();
  /** Incoming QoS ≥ 1 messages of the current connection that wait, unacknowledged, for a handler (arrival order). */
  #held: Held[] = [];
  readonly #holdCapacity: number;
  /** Acknowledgements of the current connection waiting for a handler's promise, in arrival order. */
  #pendingAcks: PendingAck[] = [];

  #state: MqttClientState = "idle";
  #connection: Connection | undefined;
  /** Bumped per connection attempt, so callbacks of an old connection are ignored. */
  #generation = 0;
  #timer: TimerHandle | undefined;
  #lastSentAt = 0;
  #pingDeadline: number | undefined;
  /** A one-off delay before the next reconnect, set by interrupt(). */
  #nextWaitMs: number | undefined;
  #firstConnect: { resolve(value: { sessionPresent: boolean }): void; reject(error: EsplabError): void } | undefined;
  #firstConnectPromise: Promise<{ sessionPresent: boolean }> | undefined;

  constructor(options: MqttClientOptions) {
    this.clientId = options.clientId;
    this.#transport = options.transport;
    this.#clock = options.clock;
    this.#target = options.target;
    this.#broker = `MQTT broker ${options.target.host}:${options.target.port}`;
    this.#cleanSession = options.cleanSession ?? true;
    const keepAlive = options.keepAliveSeconds ?? 60;
    this.#keepAliveMs = keepAlive * 1000;
    this.#pingTimeoutMs = options.pingTimeoutMs ?? Math.min(10_000, Math.max(1000, this.#keepAliveMs / 2));
    this.#connackTimeoutMs = options.connackTimeoutMs ?? 10_000;
    this.#maxInflight = options.maxInflight ?? 8;
    this.#holdCapacity = options.holdCapacity ?? DEFAULT_HOLD_CAPACITY;
    if (!(this.#holdCapacity >= 0 && this.#holdCapacity <= 0xffff)) {
      throw new MqttUsageError("BAD_OPTION", `holdCapacity must be 0–65535; got ${options.holdCapacity}`);
    }
    this.#maxPacketSize = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    this.#retryRefused = options.retryRefused ?? false;
    this.#limits = options.limits ?? {};
    if (!(this.#maxInflight >= 1 && this.#maxInflight <= 0xffff)) {
      throw new MqttUsageError("BAD_OPTION", `maxInflight must be 1–65535; got ${options.maxInflight}`);
    }
    if (!(this.#maxPacketSize >= 64)) throw new MqttUsageError("BAD_OPTION", `maxPacketSize must be at least 64 bytes; got ${options.maxPacketSize}`);
    let will: Will | undefined;
    if (options.will) {
      const { topic, payload, qos = 0, retain = false } = options.will;
      this.#checkTopic(topic, "will topic");
      this.#checkQos(qos);
      will = { topic, payload: typeof payload === "string" ? utf8Encode(payload) : payload, qos, retain };
    }
    const password = typeof options.password === "string" ? utf8Encode(options.password) : options.password;
    this.#connectPacket = {
      type: "connect",
      clientId: options.clientId,
      cleanSession: this.#cleanSession,
      keepAlive,
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(will ? { will } : {}),
    };
    encodePacket(this.#connectPacket); // validates client id, credentials, will and keepalive now, not at connect time
    const reconnect = options.reconnect;
    this.#backoff =
      reconnect === false
        ? undefined
        : new Backoff({ initialMs: 1000, maxMs: 60_000, jitter: 0.3, ...(reconnect ?? {}) });
    this.#decoder = new MqttDecoder({ maxPacketSize: this.#maxPacketSize });
    this.#outbox = new Outbox(options.storage ?? new RamStorage(), options.queueDomain ?? "mqtt-out", options.queueCapacity ?? 64);
    for (const entry of this.#outbox.entries) this.#ids.reserve(entry.packetId);
  }

  get state(): MqttClientState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#state === "connected";
  }

  /** QoS ≥ 1 messages stored and not yet acknowledged, including any restored from Storage at start. */
  get queued(): number {
    return this.#outbox.size;
  }

  get queueCapacity(): number {
    return this.#outbox.capacity;
  }

  /** Incoming QoS ≥ 1 messages waiting, unacknowledged, for a subscription handler that matches their topic. */
  get held(): number {
    return this.#held.length;
  }

  /** Storage keys of queued records that could not be read at start and were dropped (corrupt flash). */
  get discardedRecords(): readonly string[] {
    return this.#outbox.discarded;
  }

  on<K extends keyof MqttClientEvents>(event: K, listener: (value: MqttClientEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Starts the connection loop. Resolves at the first accepted CONNACK; rejects on a refusal retrying cannot fix,
   * on the first failure when reconnect is off, or when close() comes first. Later drops reconnect on their own.
   */
  connect(): Promise<{ sessionPresent: boolean }> {
    if (this.#state === "closed") return Promise.reject(closedError("connect"));
    if (this.#firstConnectPromise) return this.#firstConnectPromise;
    this.#firstConnectPromise = new Promise((resolve, reject) => {
      this.#firstConnect = { resolve, reject };
    });
    this.#firstConnectPromise.catch(() => undefined); // the caller may only listen for events
    this.#open();
    return this.#firstConnectPromise;
  }

  /**
   * Publishes a message. QoS 0 is sent now if connected (and refused if not: it is never queued). QoS 1 and 2 are
   * stored in the queue first and resolve when the broker acknowledges them; they survive drops and reboots.
   */
  publish(topic: string, payload: string | Uint8Array, options: { qos?: QoS; retain?: boolean } = {}): Promise<void> {
    try {
      const qos = options.qos ?? 0;
      const retain = options.retain ?? false;
      this.#checkTopic(topic, "topic");
      this.#checkQos(qos);
      const bytes = typeof payload === "string" ? utf8Encode(payload) : payload;
      if (!(bytes instanceof Uint8Array)) throw new MqttUsageError("BAD_PAYLOAD", "payload must be a string or a Uint8Array");
      const max = this.#limits.maxPayloadBytes;
      if (max !== undefined && bytes.length > max) {
        throw new MqttUsageError("PAYLOAD_TOO_LARGE", `${this.#profile()} accepts payloads up to ${max} bytes; this one has ${bytes.length}: split it into several messages`);
      }
      const size = publishSize(topic, bytes.length, qos);
      if (size > this.#maxPacketSize) {
        throw new MqttUsageError("PACKET_TOO_LARGE", `PUBLISH on ${topic} would be ${size} bytes; maxPacketSize is ${this.#maxPacketSize}: send less or raise maxPacketSize`);
      }
      if (this.#state === "closed") throw closedError("publish");
      if (qos === 0) {
        if (this.#state !== "connected") {
          throw new MqttConnectionError("OFFLINE", `not connected to the ${this.#broker}; QoS 0 messages are never queued — publish with QoS 1 to have it kept until delivered`);
        }
        this.#send({ type: "publish", topic, payload: bytes, qos: 0, retain, dup: false });
        return Promise.resolve();
      }
      const packetId = this.#ids.take();
      if (packetId === undefined) throw new MqttConnectionError("NO_PACKET_ID", "all 65 535 packet ids are in use; wait for acknowledgements");
      let entry: OutboxEntry;
      try {
        entry = this.#outbox.add(topic, bytes, qos, retain, packetId);
      } catch (error) {
        this.#ids.release(packetId);
        throw error;
      }
      const done = new Promise<void>((resolve, reject) => this.#waiters.set(entry.seq, { resolve, reject }));
      this.#pump();
      return done;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Subscribes one filter; resolves with the granted QoS, rejects with MqttSubscribeError if the broker refuses.
   * May be called before connect(): the handler is then in place for the messages a persistent session delivers
   * right after CONNACK. Held messages matching the filter are handed to it (and acknowledged) at once.
   */
  async subscribe(filter: string, handler: MessageHandler, options: { qos?: QoS } = {}): Promise<QoS> {
    const [result] = await this.subscribeMany([{ filter, handler, qos: options.qos ?? 0 }]);
    if (result!.error) throw result!.error;
    return result!.granted!;
  }

  /**
   * Subscribes several filters in one SUBSCRIBE (split by the profile's per-packet limit). Each result says granted
   * or refused; refused filters keep no handler. Sent now if connected, else at the next connect.
   */
  subscribeMany(entries: { filter: string; handler: MessageHandler; qos?: QoS }[]): Promise<SubscribeResult[]> {
    try {
      if (this.#state === "closed") throw closedError("subscribe");
      if (!entries.length) throw new MqttUsageError("BAD_SUBSCRIBE", "subscribe needs at least one filter");
      for (const { filter, qos = 0 } of entries) {
        const problem = typeof filter === "string" ? topicFilterProblem(filter) : "a topic filter must be a string";
        if (problem !== undefined) throw new MqttUsageError("BAD_FILTER", problem);
        this.#checkSlashes(filter, "filter");
        this.#checkQos(qos);
      }
      const batches = chunk(entries, this.#limits.maxFiltersPerSubscribe ?? entries.length);
      for (const { filter, handler, qos = 0 } of entries) {
        this.#subscriptions.set(filter, { filter, qos, handler, active: false });
      }
      if (this.#held.length) {
        const generation = this.#generation;
        void Promise.resolve().then(() => {
          if (generation !== this.#generation) return;
          try {
            this.#releaseHeld();
          } catch (error) {
            if (generation !== this.#generation) return;
            const problem = error instanceof EsplabError ? error : new MqttProtocolError("DECODER_FAILED", `handing on held messages failed: ${String(error)}`, { cause: error });
            this.#events.emit("error", problem);
            this.#drop(problem);
          }
        });
      }
      return Promise.all(
        batches.map(
          (batch) =>
            new Promise<SubscribeResult[]>((resolve, reject) => {
              this.#request({ kind: "subscribe", entries: batch.map(({ filter, qos = 0 }) => ({ filter, qos })), packetId: undefined, resolve, reject });
            }),
        ),
      ).then((results) => results.flat());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Removes filters and their handlers at once; resolves on UNSUBACK. */
  unsubscribe(filters: string | string[]): Promise<void> {
    try {
      if (this.#state === "closed") throw closedError("unsubscribe");
      const list = typeof filters === "string" ? [filters] : filters;
      if (!list.length) throw new MqttUsageError("BAD_UNSUBSCRIBE", "unsubscribe needs at least one filter");
      for (const filter of list) {
        const problem = topicFilterProblem(filter);
        if (problem !== undefined) throw new MqttUsageError("BAD_FILTER", problem);
        this.#subscriptions.delete(filter);
      }
      return new Promise<SubscribeResult[]>((resolve, reject) => {
        this.#request({ kind: "unsubscribe", entries: list.map((filter) => ({ filter, qos: 0 })), packetId: undefined, resolve, reject });
      }).then(() => undefined);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Stops for good. Sends DISCONNECT first (so the broker discards the Will) unless `abrupt`, which drops the link
   * the way a power cut would and makes the broker publish the Will. Queued messages stay in Storage.
   */
  close(options: { abrupt?: boolean } = {}): void {
    if (this.#state === "closed") return;
    const connection = this.#connection;
    if (connection && this.#state === "connected" && !options.abrupt) {
      try {
        connection.write(encodePacket({ type: "disconnect" }));
      } catch {
        // already broken: closing is all that is left
      }
    }
    this.#finish(new MqttConnectionError("CLOSED", "the application closed the MQTT client"));
    connection?.close();
  }

  /**
   * Drops the connection without acknowledging anything more and connects again after `afterMs` (or the backoff's
   * next delay): for an application that could not take a message it was handed (its store is full, say), so that a
   * persistent session keeps the message and the broker sends it again on the new connection. Without reconnecting
   * (`reconnect: false`) this is close({ abrupt: true }).
   */
  interrupt(reason: EsplabError, options: { afterMs?: number } = {}): void {
    if (this.#state === "closed" || this.#state === "idle") return;
    if (this.#backoff === undefined) return this.close({ abrupt: true });
    if (this.#state === "backing-off") return;
    this.#nextWaitMs = options.afterMs;
    this.#drop(reason);
  }

  // ── connection lifecycle ───────────────────────────────────────────────────────────────────────────────────

  #open(): void {
    const generation = ++this.#generation;
    this.#pendingAcks = [];
    this.#setState("connecting");
    this.#decoder.reset();
    this.#transport
      .connect(this.#target, {
        onData: (bytes) => {
          if (generation === this.#generation) this.#receive(bytes);
        },
        onClose: (error) => {
          if (generation !== this.#generation) return;
          this.#lost(
            error instanceof EsplabError
              ? error
              : new MqttConnectionError("CLOSED", `the ${this.#broker} closed the connection${error ? `: ${error.message}` : ""}`, { cause: error }),
          );
        },
      })
      .then(
        (connection) => {
          if (generation !== this.#generation || this.#state !== "connecting") {
            connection.close();
            return;
          }
          this.#connection = connection;
          this.#setState("awaiting-connack");
          this.#send(this.#connectPacket);
          this.#setTimer(() => {
            this.#drop(new MqttConnectionError("CONNACK_TIMEOUT", `the ${this.#broker} sent no CONNACK within ${this.#connackTimeoutMs} ms; is it an MQTT broker on that port?`));
          }, this.#connackTimeoutMs);
        },
        (error: unknown) => {
          if (generation !== this.#generation) return;
          this.#lost(error instanceof EsplabError ? error : new MqttConnectionError("CONNECT_FAILED", `cannot reach the ${this.#broker}: ${String(error)}`, { cause: error }));
        },
      );
  }

  /** Closes the current connection because of `error`, then handles it as lost. */
  #drop(error: EsplabError): void {
    const connection = this.#connection;
    this.#lost(error);
    connection?.close();
  }

  /** The connection is gone (or never came): tidy up and either back off and retry, or stop. */
  #lost(error: EsplabError): void {
    if (this.#state === "closed" || this.#state === "idle" || this.#state === "backing-off") return;
    this.#generation++; // ignore anything more from that connection
    this.#pendingAcks = []; // not acknowledged: the broker sends them again
    this.#connection = undefined;
    this.#clearTimer();
    this.#pingDeadline = undefined;
    this.#held = []; // unacknowledged: a persistent session redelivers them at the next connection
    for (const entry of this.#outbox.entries) entry.inflight = false;
    for (const request of this.#requests) {
      if (request.packetId !== undefined) this.#ids.release(request.packetId);
      request.packetId = undefined;
    }
    for (const subscription of this.#subscriptions.values()) subscription.active = false;
    const refused = error instanceof MqttConnectionRefusedError && isPermanentRefusal(error.returnCode);
    const retry = this.#backoff !== undefined && !(refused && !this.#retryRefused);
    if (!retry) {
      this.#events.emit("disconnected", { error, reconnectInMs: undefined });
      this.#finish(error);
      return;
    }
    const wait = this.#nextWaitMs ?? this.#backoff!.next();
    this.#nextWaitMs = undefined;
    this.#setState("backing-off");
    this.#events.emit("disconnected", { error, reconnectInMs: wait });
    this.#setTimer(() => this.#open(), wait);
  }

  /** Final state: reject everything still waiting (queued messages stay in Storage for the next start). */
  #finish(error: EsplabError): void {
    this.#generation++;
    this.#setState("closed");
    this.#connection = undefined;
    this.#held = [];
    this.#clearTimer();
    this.#firstConnect?.reject(error);
    this.#firstConnect = undefined;
    const pending = new MqttConnectionError(
      "CLOSED",
      `the client stopped before the broker acknowledged this message (${error.message}); it stays queued in storage and is sent at the next connect`,
      { cause: error },
    );
    for (const waiter of this.#waiters.values()) waiter.reject(pending);
    this.#waiters.clear();
    for (const request of this.#requests) request.reject(closedError(request.kind));
    this.#requests = [];
  }

  #onConnack(sessionPresent: boolean): void {
    this.#clearTimer();
    this.#setState("connected");
    this.#backoff?.reset();
    if (!sessionPresent) {
      // a fresh session: the broker forgot our subscriptions and any QoS 2 exchange it had started
      this.#incomingQos2.clear();
      const requested = new Set(this.#requests.filter((r) => r.kind === "subscribe").flatMap((r) => r.entries.map((e) => e.filter)));
      const missing = [...this.#subscriptions.values()].filter((s) => !requested.has(s.filter));
      for (const batch of chunk(missing, this.#limits.maxFiltersPerSubscribe ?? 8)) {
        this.#requests.unshift({
          kind: "subscribe",
          entries: batch.map(({ filter, qos }) => ({ filter, qos })),
          packetId: undefined,
          resolve: (results) => {
            for (const result of results) if (result.error) this.#events.emit("error", result.error);
          },
          reject: () => undefined,
        });
      }
    } else {
      for (const subscription of this.#subscriptions.values()) subscription.active = true;
    }
    this.#lastSentAt = this.#clock.now();
    this.#scheduleKeepalive();
    for (const request of this.#requests) this.#sendRequest(request);
    this.#pump();
    const first = this.#firstConnect;
    this.#firstConnect = undefined;
    first?.resolve({ sessionPresent });
    this.#events.emit("connected", { sessionPresent });
  }

  // ── receiving ─────────────────────────────────────────────────────────────────────────────────────────────

  #receive(bytes: Uint8Array): void {
    const generation = this.#generation;
    try {
      this.#decoder.feed(bytes, (packet) => {
        if (generation === this.#generation) this.#handle(packet);
      });
    } catch (error) {
      if (generation !== this.#generation) return;
      const problem =
        error instanceof MqttProtocolError
          ? new MqttProtocolError(error.code, `the ${this.#broker} broke MQTT 3.1.1: ${error.message}; disconnected (queued messages are kept and resent)`, { cause: error })
          : new MqttProtocolError("DECODER_FAILED", `handling a packet failed: ${String(error)}`, { cause: error });
      this.#events.emit("error", problem);
      this.#drop(problem);
    }
  }

  #handle(packet: MqttPacket): void {
    if (this.#state === "awaiting-connack") {
      if (packet.type !== "connack") throw unexpected(packet.type, "before CONNACK (MQTT-3.2.0-1)");
      if (packet.returnCode !== 0) {
        const refusal = explainConnack(packet.returnCode, this.#broker);
        this.#events.emit("error", refusal);
        this.#drop(refusal);
        return;
      }
      this.#onConnack(packet.sessionPresent);
      return;
    }
    switch (packet.type) {
      case "publish":
        return this.#onPublish(packet);
      case "puback":
      case "pubcomp": {
        const entry = this.#outbox.find(packet.packetId);
        const expected = packet.type === "puback" ? entry?.qos === 1 : entry?.qos === 2 && entry.released;
        if (entry && expected) this.#complete(entry);
        return;
      }
      case "pubrec": {
        const entry = this.#outbox.find(packet.packetId);
        if (entry && entry.qos === 2) this.#outbox.markReleased(entry);
        this.#send({ type: "pubrel", packetId: packet.packetId });
        return;
      }
      case "pubrel":
        this.#incomingQos2.delete(packet.packetId);
        this.#send({ type: "pubcomp", packetId: packet.packetId });
        return;
      case "suback":
      case "unsuback":
        return this.#onRequestAck(packet.packetId, packet.type === "suback" ? packet.returnCodes : undefined);
      case "pingresp":
        this.#pingDeadline = undefined;
        this.#scheduleKeepalive();
        return;
      default:
        throw unexpected(packet.type, "from a broker");
    }
  }

  #onPublish(packet: PublishPacket): void {
    const message: MqttMessage = { topic: packet.topic, payload: packet.payload, qos: packet.qos, retain: packet.retain, dup: packet.dup, packetId: packet.packetId };
    if (packet.qos === 0) {
      this.#deliver(message);
      return;
    }
    const id = packet.packetId!;
    if (packet.qos === 2 && this.#incomingQos2.has(id)) {
      this.#send({ type: "pubrec", packetId: id }); // already handed on: the broker missed our PUBREC
      return;
    }
    if (this.#held.length) this.#releaseHeld(); // keep arrival order for topics that have a handler by now
    if (this.#held.some((held) => held.packetId === id)) return; // a repeat of one still waiting
    if (!this.#hasHandler(packet.topic)) {
      this.#hold(message, id);
      return;
    }
    this.#take(message, id);
  }

  /** Hands a QoS ≥ 1 message to the handlers, then acknowledges it (PUBACK, or PUBREC for QoS 2). */
  #take(message: MqttMessage, id: number): void {
    if (message.qos === 2) {
      if (this.#incomingQos2.size >= MAX_INCOMING_QOS2) {
        throw new MqttProtocolError("UNEXPECTED_PACKET", `the broker has ${MAX_INCOMING_QOS2} QoS 2 messages awaiting PUBREL; refusing more to bound memory`);
      }
    }
    const generation = this.#generation;
    const work = this.#deliver(message);
    if (generation !== this.#generation) return; // a handler closed the client or the link: no acknowledgement
    // This runs deep in the link's receive path, where the device's stack is small: the common case (no promise,
    // nothing waiting) acknowledges here, and only a handler's promise takes the longer way.
    if (work === undefined && !this.#pendingAcks.length) {
      if (message.qos === 2) this.#incomingQos2.add(id);
      this.#send({ type: message.qos === 1 ? "puback" : "pubrec", packetId: id });
    } else {
      this.#acknowledgeWhenSettled(message, id, work, generation);
    }
  }

  #acknowledgeWhenSettled(message: MqttMessage, id: number, work: PromiseLike<unknown>[] | undefined, generation: number): void {
    const pending: PendingAck = { packetId: id, qos: message.qos as 1 | 2, settled: work === undefined };
    this.#pendingAcks.push(pending);
    if (work === undefined) return;
    void Promise.allSettled(work).then((outcomes) => {
      if (generation !== this.#generation) return; // the link dropped meanwhile: the broker sends it again
      for (const outcome of outcomes) {
        if (outcome.status === "rejected") this.#handlerFailed(message, outcome.reason);
      }
      pending.settled = true;
      this.#flushAcks(generation);
    });
  }

  /** Sends the acknowledgements whose handlers have settled, up to the first one still working. */
  #flushAcks(generation: number): void {
    while (this.#pendingAcks[0]?.settled && generation === this.#generation) {
      this.#acknowledge(this.#pendingAcks.shift()!);
    }
  }

  /** PUBACK, or PUBREC for QoS 2 — from then on a redelivery of that QoS 2 message is not handed on again. */
  #acknowledge({ packetId, qos }: PendingAck): void {
    if (qos === 2) this.#incomingQos2.add(packetId);
    this.#send({ type: qos === 1 ? "puback" : "pubrec", packetId });
  }

  #handlerFailed(message: MqttMessage, error: unknown): void {
    this.#events.emit("error", new EsplabError("HANDLER_FAILED", `the handler for a message to ${message.topic} failed: ${String(error)}`, { cause: error }));
  }

  #hasHandler(topic: string): boolean {
    for (const subscription of this.#subscriptions.values()) if (topicMatches(subscription.filter, topic)) return true;
    return false;
  }

  #hold(message: MqttMessage, packetId: number): void {
    if (this.#held.length >= this.#holdCapacity) {
      this.#events.emit(
        "error",
        new EsplabError(
          "HOLD_FULL",
          `a QoS ${message.qos} message on ${message.topic} arrived with no handler for its topic and ${this.#holdCapacity} such messages are already waiting; it is left unacknowledged, so a persistent session sends it again at the next connection — subscribe before connect(), or raise holdCapacity`,
        ),
      );
      return;
    }
    this.#held.push({ message, packetId });
  }

  /** Hands on (and acknowledges) the held messages that a handler now matches, oldest first. */
  #releaseHeld(): void {
    const generation = this.#generation;
    while (generation === this.#generation) {
      const index = this.#held.findIndex((held) => this.#hasHandler(held.message.topic));
      if (index < 0) return;
      const [held] = this.#held.splice(index, 1);
      this.#take(held!.message, held!.packetId);
    }
  }

  /** Hands a message to every matching handler; returns the promises of those still working on it, if any. */
  #deliver(message: MqttMessage): PromiseLike<unknown>[] | undefined {
    let work: PromiseLike<unknown>[] | undefined;
    for (const subscription of this.#subscriptions.values()) {
      if (!topicMatches(subscription.filter, message.topic)) continue;
      try {
        const result = subscription.handler(message);
        if (isThenable(result)) (work ??= []).push(result);
      } catch (error) {
        this.#events.emit("error", new EsplabError("HANDLER_FAILED", `the handler for ${subscription.filter} threw on a message to ${message.topic}: ${String(error)}`, { cause: error }));
      }
    }
    for (const error of this.#events.emit("message", message)) {
      this.#events.emit("error", new EsplabError("HANDLER_FAILED", `a message listener threw on ${message.topic}: ${String(error)}`, { cause: error }));
    }
    return work;
  }

  #complete(entry: OutboxEntry): void {
    this.#outbox.remove(entry);
    this.#ids.release(entry.packetId);
    const waiter = this.#waiters.get(entry.seq);
    this.#waiters.delete(entry.seq);
    waiter?.resolve();
    this.#events.emit("delivered", { seq: entry.seq, packetId: entry.packetId, qos: entry.qos });
    this.#pump();
  }

  #onRequestAck(packetId: number, returnCodes: number[] | undefined): void {
    const index = this.#requests.findIndex((r) => r.packetId === packetId);
    if (index < 0) return; // an answer to a request from before a reconnect: already resent
    const request = this.#requests[index]!;
    if ((request.kind === "subscribe") !== (returnCodes !== undefined)) {
      throw unexpected(returnCodes ? "suback" : "unsuback", `for packet id ${packetId}, which was a ${request.kind.toUpperCase()}`);
    }
    if (returnCodes && returnCodes.length !== request.entries.length) {
      throw new MqttProtocolError("BAD_SUBACK", `SUBACK has ${returnCodes.length} return codes for a SUBSCRIBE of ${request.entries.length} filters`);
    }
    this.#requests.splice(index, 1);
    this.#ids.release(packetId);
    const results: SubscribeResult[] = request.entries.map(({ filter }, i) => {
      const code = returnCodes?.[i];
      const subscription = this.#subscriptions.get(filter);
      if (code === SUBACK_FAILURE) {
        this.#subscriptions.delete(filter);
        return {
          filter,
          granted: undefined,
          error: new MqttSubscribeError(
            filter,
            `the ${this.#broker} refused the subscription to ${JSON.stringify(filter)} (SUBACK 0x80); check the broker's ACL or policy for this client id — the connection stays up and other subscriptions are unaffected`,
          ),
        };
      }
      if (subscription && code !== undefined) subscription.active = true;
      return { filter, granted: code as QoS | undefined };
    });
    request.resolve(results);
  }

  // ── sending ───────────────────────────────────────────────────────────────────────────────────────────────

  #request(request: Request): void {
    this.#requests.push(request);
    if (this.#state === "connected") this.#sendRequest(request);
  }

  #sendRequest(request: Request): void {
    if (request.packetId !== undefined) return;
    const packetId = this.#ids.take();
    if (packetId === undefined) return; // retried at the next connect
    request.packetId = packetId;
    if (request.kind === "subscribe") this.#send({ type: "subscribe", packetId, subscriptions: request.entries });
    else this.#send({ type: "unsubscribe", packetId, filters: request.entries.map((e) => e.filter) });
  }

  /**
   * Sends queued messages, oldest first, while the inflight window has room. Inflight entries sit at the front of
   * the queue, so this looks at about maxInflight entries, not the whole queue.
   */
  #pump(): void {
    if (this.#state !== "connected") return;
    const entries = this.#outbox.entries;
    let inflight = 0;
    for (let i = 0; i < entries.length && inflight < this.#maxInflight; ) {
      const entry = entries[i]!;
      if (entry.inflight) {
        inflight++;
        i++;
        continue;
      }
      if (entry.released) {
        this.#send({ type: "pubrel", packetId: entry.packetId });
      } else {
        const stored = this.#outbox.read(entry);
        if (!stored) {
          this.#events.emit("error", new EsplabError("QUEUE_RECORD_LOST", `queued message ${entry.key} vanished from storage; it cannot be sent`));
          this.#outbox.remove(entry); // the next entry moves to index i
          this.#ids.release(entry.packetId);
          this.#waiters.get(entry.seq)?.reject(new EsplabError("QUEUE_RECORD_LOST", "the stored copy of this message vanished"));
          this.#waiters.delete(entry.seq);
          continue;
        }
        this.#send({ type: "publish", topic: stored.topic, payload: stored.payload, qos: entry.qos, retain: entry.retain, dup: entry.sent, packetId: entry.packetId });
      }
      if (this.#state !== "connected") return; // the write failed and the link is gone
      entry.sent = true;
      entry.inflight = true;
      inflight++;
      i++;
    }
  }

  #send(packet: MqttPacket): void {
    const connection = this.#connection;
    if (!connection) return;
    try {
      connection.write(encodePacket(packet));
      this.#lastSentAt = this.#clock.now();
    } catch (error) {
      this.#drop(error instanceof EsplabError ? error : new MqttConnectionError("WRITE_FAILED", `writing to the ${this.#broker} failed: ${String(error)}`, { cause: error }));
    }
  }

  // ── keepalive ─────────────────────────────────────────────────────────────────────────────────────────────

  #scheduleKeepalive(): void {
    if (this.#keepAliveMs === 0 || this.#state !== "connected") return;
    const due = this.#pingDeadline ?? this.#lastSentAt + this.#keepAliveMs;
    this.#setTimer(() => this.#keepaliveTick(), Math.max(0, due - this.#clock.now()));
  }

  #keepaliveTick(): void {
    const now = this.#clock.now();
    if (this.#pingDeadline !== undefined) {
      if (now >= this.#pingDeadline) {
        this.#drop(new MqttConnectionError("PING_TIMEOUT", `the ${this.#broker} did not answer PINGREQ within ${this.#pingTimeoutMs} ms; the link is dead — reconnecting`));
        return;
      }
    } else if (now - this.#lastSentAt >= this.#keepAliveMs) {
      this.#send({ type: "pingreq" });
      this.#pingDeadline = now + this.#pingTimeoutMs;
    }
    this.#scheduleKeepalive();
  }

  // ── helpers ───────────────────────────────────────────────────────────────────────────────────────────────

  #setState(state: MqttClientState): void {
    this.#state = state;
  }

  #setTimer(callback: () => void, ms: number): void {
    this.#clearTimer();
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      callback();
    }, ms);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#clock.clear(this.#timer);
    this.#timer = undefined;
  }

  #checkTopic(topic: string, what: string): void {
    const problem = typeof topic === "string" ? topicNameProblem(topic) : `${what} must be a string`;
    if (problem !== undefined) throw new MqttUsageError("BAD_TOPIC", problem);
    this.#checkSlashes(topic, what);
  }

  #checkSlashes(topic: string, what: string): void {
    const max = this.#limits.maxTopicSlashes;
    if (max !== undefined && slashCount(topic) > max) {
      throw new MqttUsageError("TOO_MANY_LEVELS", `${this.#profile()} allows at most ${max} "/" in a ${what}; ${JSON.stringify(topic)} has ${slashCount(topic)}: flatten the topic`);
    }
  }

  #checkQos(qos: unknown): void {
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new MqttUsageError("BAD_QOS", `QoS must be 0, 1 or 2; got ${String(qos)}`);
    const max = this.#limits.maxQos;
    if (max !== undefined && qos > max) {
      throw new MqttUsageError("QOS_NOT_SUPPORTED", `${this.#profile()} supports QoS up to ${max}; QoS ${qos} was asked for — use QoS 1 (at least once) and make the receiver tolerate duplicates`);
    }
  }

  #profile(): string {
    return this.#limits.profile ?? "this broker profile";
  }
}

function publishSize(topic: string, payloadBytes: number, qos: QoS): number {
  const length = 2 + utf8Length(topic) + (qos > 0 ? 2 : 0) + payloadBytes;
  return 1 + (length < 0x80 ? 1 : length < 0x4000 ? 2 : length < 0x20_0000 ? 3 : 4) + length;
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function closedError(what: string): MqttConnectionError {
  return new MqttConnectionError("CLOSED", `cannot ${what}: the MQTT client was closed; create a new one to connect again`);
}

function unexpected(type: string, where: string): MqttProtocolError {
  return new MqttProtocolError("UNEXPECTED_PACKET", `${type.toUpperCase()} ${where} is not allowed`);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}
