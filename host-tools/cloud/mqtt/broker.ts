import net from "node:net";
import { Aedes, type AuthenticateError } from "aedes";
import { DurableSessions } from "./durable-sessions.ts";

export interface BrokerMessage {
  atMs: number;
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  client: string | undefined;
}

export interface MqttBroker {
  url: string;
  port: number;
  /** The listening socket (a scenario meters the bytes through it). */
  server: net.Server;
  /** Every message through the broker (from clients, and from publish()), as it passes. */
  onPublish(listener: (message: BrokerMessage) => void): () => void;
  /** Publishes as the broker itself (the server side of the course: commands to devices). */
  publish(topic: string, payload: string, options?: { qos?: 0 | 1 | 2; retain?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/**
 * The local MQTT 3.1.1 broker: aedes (QoS 0–2, retained messages, wills, persistent sessions) on 127.0.0.1, with
 * optional username/password — a wrong pair is refused with CONNACK 4 (bad user name or password), a missing one
 * with 5 (not authorised), as MQTT 3.1.1 says. With `dataDir`, persistent sessions and their queued messages survive a
 * restart of the broker (see DurableSessions); without, they live as long as the process.
 */
export async function startMqttBroker(
  options: { host?: string; port?: number; users?: Record<string, string>; dataDir?: string; log?: (line: string) => void } = {},
): Promise<MqttBroker> {
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => undefined);
  const sessions = options.dataDir ? new DurableSessions(options.dataDir) : undefined;
  const broker = await Aedes.createBroker(sessions ? { persistence: sessions } : {});
  const users = options.users;
  if (users && Object.keys(users).length) {
    broker.authenticate = (client, username, password, done) => {
      if (username === undefined) {
        const error = new Error("a user name and password are required") as AuthenticateError;
        error.returnCode = 5;
        return done(error, false);
      }
      if (users[username] === undefined || users[username] !== password?.toString("utf8")) {
        const error = new Error("bad user name or password") as AuthenticateError;
        error.returnCode = 4;
        log(`mqtt: refused ${client.id}: bad user name or password`);
        return done(error, false);
      }
      done(null, true);
    };
  }
  const listeners = new Set<(message: BrokerMessage) => void>();
  broker.on("client", (client) => log(`mqtt: ${client.id} connected`));
  broker.on("clientDisconnect", (client) => log(`mqtt: ${client.id} disconnected`));
  broker.on("subscribe", (subscriptions, client) => log(`mqtt: ${client.id} subscribed to ${subscriptions.map((s) => s.topic).join(", ")}`));
  broker.on("publish", (packet, client) => {
    // aedes reports its own $SYS heartbeats here too; what the lab or a scenario publishes has no client.
    if (packet.topic.startsWith("$SYS")) return;
    const message: BrokerMessage = {
      atMs: Date.now(),
      topic: packet.topic,
      payload: Buffer.from(packet.payload).toString("utf8"),
      qos: packet.qos,
      retain: packet.retain,
      client: client?.id,
    };
    for (const listener of listeners) listener(message);
  });
  const server = net.createServer(broker.handle);
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? new Error(`MQTT port ${options.port ?? 1883} on ${host} is in use (another broker?): stop it or choose another port`) : error),
    );
    server.listen(options.port ?? 1883, host, () => resolve((server.address() as net.AddressInfo).port));
  }).catch(async (error: Error) => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await sessions?.destroy();
    throw error;
  });
  const sockets = new Set<net.Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return {
    url: `mqtt://${host}:${port}`,
    port,
    server,
    onPublish(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    publish(topic, payload, publishOptions = {}) {
      return new Promise<void>((resolve, reject) =>
        broker.publish(
          { cmd: "publish", topic, payload: Buffer.from(payload), qos: publishOptions.qos ?? 1, retain: publishOptions.retain ?? false, dup: false },
          (error) => (error ? reject(error) : resolve()),
        ),
      );
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await sessions?.destroy();
    },
  };
}
