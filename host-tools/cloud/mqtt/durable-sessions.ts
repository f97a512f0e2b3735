import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import Database from "better-sqlite3";
import type { Client, Subscription } from "aedes";
import type { AedesPacket } from "aedes-packet";
import type MemoryPersistenceType from "aedes-persistence/types/asyncPersistence.d.ts";

// aedes-persistence's in-memory store (subscription trie, queues) is reused; this class writes every change it makes
// through to SQLite and reads it back at start, so a broker restart keeps sessions and their queued messages.
const MemoryPersistence = createRequire(import.meta.url)("aedes-persistence/asyncPersistence.js") as typeof MemoryPersistenceType;

/** The fields of a queued packet this store reads (AedesPacket is a union over every MQTT packet type). */
type QueuedFields = { topic?: string; payload?: Uint8Array; messageId?: number; brokerId?: string; brokerCounter?: number };
const fields = (packet: AedesPacket) => packet as unknown as QueuedFields;
/** The persistence reads only a client's id; records loaded from disk have no live client behind them. */
const clientRef = (id: string) => ({ id }) as unknown as Client;

/** Packets as JSON with the payload in base64 (packets carry Buffers; JSON alone would inflate them 4×). */
function encodePacket(packet: AedesPacket): string {
  const payload = fields(packet).payload;
  return JSON.stringify(packet, (key, value: unknown) => (key === "payload" && payload ? { base64: Buffer.from(payload).toString("base64") } : value));
}

function decodePacket(text: string): AedesPacket {
  const packet = JSON.parse(text) as { payload?: { base64: string } | Buffer };
  if (packet.payload && "base64" in packet.payload) packet.payload = Buffer.from(packet.payload.base64, "base64");
  return packet as unknown as AedesPacket;
}

/**
 * The local broker's persistent sessions, kept in SQLite (`mqtt-sessions.sqlite` in the data directory): subscriptions
 * of persistent clients, the QoS 1/2 messages queued for them, QoS 2 messages received and awaiting PUBREL, and
 * retained messages. Writes that arrive together are committed in one transaction (one fsync), and each operation
 * resolves — so aedes goes on to acknowledge or deliver — only once its change is durable.
 *
 * What it does not keep: Last Will messages (a Will belongs to a live network connection; clients send theirs again
 * when they reconnect after a broker restart). As in aedes itself, a QoS 1 PUBACK leaves before the message is
 * queued for offline subscribers, so a broker killed in that instant can lose it; a broker stopped with SIGTERM or
 * Ctrl-C finishes its queue first.
 */
export class DurableSessions extends MemoryPersistence {
  readonly #db: Database.Database;
  readonly #pending: { run: () => void; resolve: () => void; reject: (error: Error) => void }[] = [];
  #flushScheduled = false;
  readonly #statements;

  constructor(dataDir: string) {
    super();
    fs.mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, "mqtt-sessions.sqlite");
    try {
      this.#db = new Database(file);
      this.#db.pragma("journal_mode = WAL");
      this.#db.pragma("synchronous = FULL");
      this.#db.exec(`
        CREATE TABLE IF NOT EXISTS subscriptions (client TEXT NOT NULL, topic TEXT NOT NULL, options TEXT NOT NULL, PRIMARY KEY (client, topic));
        CREATE TABLE IF NOT EXISTS outgoing (id INTEGER PRIMARY KEY, client TEXT NOT NULL, broker_id TEXT, broker_counter INTEGER, message_id INTEGER, packet TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS outgoing_by_client ON outgoing (client, id);
        CREATE TABLE IF NOT EXISTS incoming (client TEXT NOT NULL, message_id INTEGER NOT NULL, packet TEXT NOT NULL, PRIMARY KEY (client, message_id));
        CREATE TABLE IF NOT EXISTS retained (topic TEXT PRIMARY KEY, packet TEXT NOT NULL);
      `);
    } catch (error) {
      throw new Error(`cannot open the broker's session store ${file}: ${(error as Error).message} — check the data directory is writable, or start without one`, { cause: error });
    }
    const db = this.#db;
    this.#statements = {
      subscribe: db.prepare("INSERT OR REPLACE INTO subscriptions (client, topic, options) VALUES (?, ?, ?)"),
      unsubscribe: db.prepare("DELETE FROM subscriptions WHERE client = ? AND topic = ?"),
      forgetClient: db.prepare("DELETE FROM subscriptions WHERE client = ?"),
      enqueue: db.prepare("INSERT INTO outgoing (client, broker_id, broker_counter, message_id, packet) VALUES (?, ?, ?, ?, ?)"),
      setMessageId: db.prepare("UPDATE outgoing SET message_id = ?, packet = ? WHERE client = ? AND broker_id = ? AND broker_counter = ?"),
      replaceByMessageId: db.prepare(
        "UPDATE outgoing SET broker_id = ?, broker_counter = ?, packet = ? WHERE id = (SELECT id FROM outgoing WHERE client = ? AND message_id = ? ORDER BY id LIMIT 1)",
      ),
      clearMessageId: db.prepare("DELETE FROM outgoing WHERE id = (SELECT id FROM outgoing WHERE client = ? AND message_id = ? ORDER BY id LIMIT 1)"),
      storeIncoming: db.prepare("INSERT OR REPLACE INTO incoming (client, message_id, packet) VALUES (?, ?, ?)"),
      deleteIncoming: db.prepare("DELETE FROM incoming WHERE client = ? AND message_id = ?"),
      cleanIncoming: db.prepare("DELETE FROM incoming WHERE client = ?"),
      retain: db.prepare("INSERT OR REPLACE INTO retained (topic, packet) VALUES (?, ?)"),
      unretain: db.prepare("DELETE FROM retained WHERE topic = ?"),
    };
  }

  /** Loads what the last run left, into the in-memory store, before the broker takes its first client. */
  override async setup(broker: unknown): Promise<void> {
    await super.setup(broker);
    const db = this.#db;
    const subscriptions = new Map<string, Subscription[]>();
    for (const row of db.prepare("SELECT client, topic, options FROM subscriptions").all() as { client: string; topic: string; options: string }[]) {
      const list = subscriptions.get(row.client) ?? [];
      list.push({ topic: row.topic, ...(JSON.parse(row.options) as Omit<Subscription, "topic">) } as Subscription);
      subscriptions.set(row.client, list);
    }
    for (const [client, subs] of subscriptions) await super.addSubscriptions(clientRef(client), subs);
    for (const row of db.prepare("SELECT client, packet FROM outgoing ORDER BY id").all() as { client: string; packet: string }[]) {
      const packet = decodePacket(row.packet);
      await super.outgoingEnqueue({ clientId: row.client }, packet);
      // the queue copies the packet without its id; put back the id the client may already hold it under
      if (fields(packet).messageId !== undefined) await super.outgoingUpdate(clientRef(row.client), packet).catch(() => undefined);
    }
    for (const row of db.prepare("SELECT client, packet FROM incoming").all() as { client: string; packet: string }[]) {
      const packet = decodePacket(row.packet);
      await super.incomingStorePacket(clientRef(row.client), packet);
    }
    for (const row of db.prepare("SELECT packet FROM retained").all() as { packet: string }[]) await super.storeRetained(decodePacket(row.packet));
  }

  override async addSubscriptions(client: Client, subs: Subscription[]): Promise<void> {
    await super.addSubscriptions(client, subs);
    await this.#write(() => {
      for (const { topic, ...options } of subs) this.#statements.subscribe.run(client.id, topic, JSON.stringify(options));
    });
  }

  override async removeSubscriptions(client: Client, topics: string[]): Promise<void> {
    await super.removeSubscriptions(client, topics);
    await this.#write(() => {
      for (const topic of topics) this.#statements.unsubscribe.run(client.id, topic);
    });
  }

  override async cleanSubscriptions(client: Client): Promise<void> {
    await super.cleanSubscriptions(client);
    await this.#write(() => this.#statements.forgetClient.run(client.id));
  }

  override async outgoingEnqueue(sub: { clientId: string }, packet: AedesPacket): Promise<void> {
    await super.outgoingEnqueue(sub, packet);
    await this.#write(() => this.#enqueueRow(sub.clientId, packet));
  }

  override async outgoingEnqueueCombi(subs: { clientId: string }[], packet: AedesPacket): Promise<void> {
    await super.outgoingEnqueueCombi(subs, packet);
    if (subs.length === 0) return;
    await this.#write(() => {
      for (const sub of subs) this.#enqueueRow(sub.clientId, packet);
    });
  }

  override async outgoingUpdate(client: Client, packet: AedesPacket): Promise<void> {
    await super.outgoingUpdate(client, packet);
    // the same two cases as the in-memory queue: an id given to a queued message, or a PUBREL replacing its PUBLISH
    await this.#write(() => {
      const { messageId, brokerId, brokerCounter } = fields(packet);
      const encoded = encodePacket(packet);
      const updated = this.#statements.setMessageId.run(messageId ?? null, encoded, client.id, brokerId ?? null, brokerCounter ?? null);
      if (updated.changes === 0) this.#statements.replaceByMessageId.run(brokerId ?? null, brokerCounter ?? null, encoded, client.id, messageId ?? null);
    });
  }

  override async outgoingClearMessageId(client: Client, packet: AedesPacket): Promise<AedesPacket> {
    const cleared = await super.outgoingClearMessageId(client, packet);
    await this.#write(() => this.#statements.clearMessageId.run(client.id, fields(packet).messageId ?? null));
    return cleared;
  }

  override async incomingStorePacket(client: Client, packet: AedesPacket): Promise<void> {
    await super.incomingStorePacket(client, packet);
    await this.#write(() => this.#statements.storeIncoming.run(client.id, fields(packet).messageId, encodePacket(packet)));
  }

  override async incomingDelPacket(client: Client, packet: AedesPacket): Promise<void> {
    await super.incomingDelPacket(client, packet);
    await this.#write(() => this.#statements.deleteIncoming.run(client.id, fields(packet).messageId));
  }

  override async cleanIncoming(client: Client): Promise<void> {
    await super.cleanIncoming(client);
    await this.#write(() => this.#statements.cleanIncoming.run(client.id));
  }

  override async storeRetained(packet: AedesPacket): Promise<void> {
    await super.storeRetained(packet);
    await this.#write(() => {
      const { topic, payload } = fields(packet);
      if (!payload || payload.length === 0) this.#statements.unretain.run(topic);
      else this.#statements.retain.run(topic, encodePacket(packet));
    });
  }

  override async destroy(): Promise<void> {
    if (!this.#db.open) return;
    await super.destroy();
    this.#flush();
    this.#db.close();
  }

  #enqueueRow(client: string, packet: AedesPacket): void {
    const { brokerId, brokerCounter, messageId } = fields(packet);
    this.#statements.enqueue.run(client, brokerId ?? null, brokerCounter ?? null, messageId ?? null, encodePacket(packet));
  }

  /** Queues a change for the next group commit and resolves once it is on disk. */
  #write(run: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ run, resolve, reject });
      if (this.#flushScheduled) return;
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending.splice(0);
    if (batch.length === 0) return;
    try {
      this.#db.transaction(() => {
        for (const change of batch) change.run();
      })();
    } catch (error) {
      const failure = new Error(`the broker could not save its sessions: ${(error as Error).message}`, { cause: error });
      for (const change of batch) change.reject(failure);
      return;
    }
    for (const change of batch) change.resolve();
  }
}
