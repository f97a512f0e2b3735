/**
 * An in-memory Transport whose far end is a scripted MQTT broker, for state-machine tests in virtual time. Client
 * bytes are parsed with mqtt-packet (the reference codec), so a client encoding bug cannot hide behind our decoder.
 */
import mqtt from "mqtt-packet";
import { TransportError } from "../../../../firmware/core/errors.ts";
import { encodePacket } from "../../../../firmware/net/mqtt/encode.ts";
import type { MqttPacket } from "../../../../firmware/net/mqtt/packets.ts";
import type { Connection, ConnectionHandlers, ConnectTarget, Transport } from "../../../../firmware/ports/transport.ts";
import type { Clock } from "../../../../firmware/ports/clock.ts";
import { fromTheirs } from "./reference-codec.ts";

export class Link {
  readonly received: MqttPacket[] = [];
  closed = false;
  readonly #handlers: ConnectionHandlers;
  readonly #broker: ScriptedBroker;
  readonly #parser = mqtt.parser({ protocolVersion: 4 });

  constructor(broker: ScriptedBroker, handlers: ConnectionHandlers) {
    this.#broker = broker;
    this.#handlers = handlers;
    this.#parser.on("packet", (packet) => {
      const ours = fromTheirs(packet as unknown as Record<string, unknown>);
      this.received.push(ours);
      this.#broker.react(this, ours);
    });
    this.#parser.on("error", (error: Error) => {
      this.#broker.parseErrors.push(error.message);
    });
  }

  /** Bytes from the client. */
  write(bytes: Uint8Array): void {
    this.#parser.parse(Buffer.from(bytes));
  }

  send(packet: MqttPacket): void {
    this.sendRaw(encodePacket(packet));
  }

  sendRaw(bytes: Uint8Array): void {
    if (this.closed) return;
    queueMicrotask(() => {
      if (!this.closed) this.#handlers.onData(bytes.slice());
    });
  }

  /** The network drops the link (no DISCONNECT, no FIN seen by the application). */
  drop(): void {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => this.#handlers.onClose(new TransportError("RESET", "link dropped by the test")));
  }

  types(): string[] {
    return this.received.map((p) => p.type);
  }
}

export class ScriptedBroker implements Transport {
  readonly links: Link[] = [];
  readonly connectTimes: number[] = [];
  /** Client bytes mqtt-packet could not parse: must stay empty. */
  readonly parseErrors: string[] = [];
  /** Refuse transport connects (broker down). */
  down = false;
  /** CONNACK return code to answer with, or false to stay silent. */
  connack: number | false = 0;
  sessionPresent = false;
  /** Acknowledge PUBLISH (PUBACK / PUBREC) and PUBREL automatically. */
  ackPublishes = true;
  answerPings = true;
  /** Granted QoS per filter; 0x80 refuses. */
  grant: (filter: string, qos: number) => number = (_filter, qos) => qos;

  constructor(readonly clock: Clock) {}

  get link(): Link {
    return this.links[this.links.length - 1]!;
  }

  connect(_target: ConnectTarget, handlers: ConnectionHandlers): Promise<Connection> {
    this.connectTimes.push(this.clock.now());
    if (this.down) return Promise.reject(new TransportError("REFUSED", "127.0.0.1:1883 refused the connection: is the server running?"));
    const link = new Link(this, handlers);
    this.links.push(link);
    return Promise.resolve({
      write: (bytes: Uint8Array) => {
        if (link.closed) throw new TransportError("CLOSED", "connection is closed");
        link.write(bytes);
      },
      close: () => link.drop(),
    });
  }

  react(link: Link, packet: MqttPacket): void {
    switch (packet.type) {
      case "connect":
        if (this.connack !== false) link.send({ type: "connack", returnCode: this.connack, sessionPresent: this.connack === 0 && this.sessionPresent });
        return;
      case "publish":
        if (!this.ackPublishes || packet.qos === 0) return;
        link.send({ type: packet.qos === 1 ? "puback" : "pubrec", packetId: packet.packetId! });
        return;
      case "pubrel":
        if (this.ackPublishes) link.send({ type: "pubcomp", packetId: packet.packetId });
        return;
      case "subscribe":
        link.send({ type: "suback", packetId: packet.packetId, returnCodes: packet.subscriptions.map((s) => this.grant(s.filter, s.qos)) });
        return;
      case "unsubscribe":
        link.send({ type: "unsuback", packetId: packet.packetId });
        return;
      case "pingreq":
        if (this.answerPings) link.send({ type: "pingresp" });
        return;
      default:
    }
  }
}
