import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EsplabError } from "../../../../firmware/core/errors.ts";
import { MqttClient, type MqttClientEvents, type MqttClientOptions, type MqttMessage } from "../../../../firmware/net/mqtt/client.ts";
import { MqttProtocolError } from "../../../../firmware/net/mqtt/errors.ts";
import { MemoryStorage } from "../../../../host-tools/platform/file-storage.ts";
import { VirtualClock } from "../../../../host-tools/platform/virtual-clock.ts";
import { ScriptedBroker } from "./scripted-broker.ts";

function setup(options: Partial<MqttClientOptions> = {}) {
  const clock = new VirtualClock();
  const broker = new ScriptedBroker(clock);
  const storage = new MemoryStorage();
  const make = (extra: Partial<MqttClientOptions> = {}) =>
    new MqttClient({
      transport: broker,
      clock,
      target: { host: "127.0.0.1", port: 1883 },
      clientId: "device",
      storage,
      reconnect: { initialMs: 1000, maxMs: 8000, jitter: 0.3, random: () => 0.5 },
      ...options,
      ...extra,
    });
  const client = make();
  const events: { [K in keyof MqttClientEvents]: MqttClientEvents[K][] } = { connected: [], disconnected: [], error: [], message: [], delivered: [] };
  for (const name of Object.keys(events) as (keyof MqttClientEvents)[]) client.on(name, (value) => (events[name] as unknown[]).push(value));
  return { clock, broker, storage, client, events, make };
}

describe("MQTT client state machine (virtual time, scripted broker)", () => {
  it("sends PINGREQ after a quiet keepalive period and reconnects when PINGRESP does not come", async () => {
    const { clock, broker, client, events } = setup({ keepAliveSeconds: 10, pingTimeoutMs: 3000 });
    await client.connect();
    await clock.advance(9999);
    expect(broker.link.types()).toEqual(["connect"]);
    await clock.advance(1);
    expect(broker.link.types()).toEqual(["connect", "pingreq"]);
    await clock.advance(10_000);
    expect(broker.link.types()).toEqual(["connect", "pingreq", "pingreq"]);
    expect(events.disconnected).toEqual([]);
    broker.answerPings = false;
    await clock.advance(10_000);
    expect(broker.link.types().at(-1)).toBe("pingreq");
    await clock.advance(2999);
    expect(client.state).toBe("connected");
    await clock.advance(1);
    expect(events.disconnected).toHaveLength(1);
    expect(events.disconnected[0]!.error?.code).toBe("PING_TIMEOUT");
    expect(events.disconnected[0]!.error?.message).toMatch(/did not answer PINGREQ within 3000 ms/);
    expect(broker.links[0]!.closed).toBe(true);
    expect(client.state).toBe("backing-off");
    broker.answerPings = true;
    await clock.advance(1000);
    expect(client.state).toBe("connected");
    expect(broker.links).toHaveLength(2);
  });

  it("counts any packet it sends as keepalive traffic", async () => {
    const { clock, broker, client } = setup({ keepAliveSeconds: 10 });
    await client.connect();
    await clock.advance(6000);
    await client.publish("sensor/device", "1", { qos: 1 });
    await clock.advance(4000);
    expect(broker.link.types()).toEqual(["connect", "publish"]);
    await clock.advance(6000);
    expect(broker.link.types()).toEqual(["connect", "publish", "pingreq"]);
  });

  it("reconnects with exponential backoff, capped, and resets it after a success", async () => {
    const { clock, broker, client, events } = setup();
    broker.down = true;
    void client.connect();
    await clock.advance(1000 + 2000 + 4000 + 8000 + 8000 + 8000);
    const gaps = broker.connectTimes.slice(1).map((t, i) => t - broker.connectTimes[i]!);
    expect(gaps).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    expect(events.disconnected.map((d) => d.reconnectInMs)).toEqual([1000, 2000, 4000, 8000, 8000, 8000, 8000]);
    expect(events.disconnected[0]!.error?.code).toBe("REFUSED");
    broker.down = false;
    await clock.advance(8000);
    expect(client.state).toBe("connected");
    broker.link.drop();
    await clock.advance(0);
    expect(events.disconnected.at(-1)!.reconnectInMs).toBe(1000);
  });

  it("spreads reconnect delays by the jitter and never beyond the cap", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.double({ min: 0, max: 0.999999, noNaN: true }), { minLength: 12, maxLength: 12 }), async (randoms) => {
        const clock = new VirtualClock();
        const broker = new ScriptedBroker(clock);
        broker.down = true;
        let i = 0;
        const client = new MqttClient({ transport: broker, clock, target: { host: "h", port: 1 }, clientId: "d", reconnect: { initialMs: 1000, maxMs: 8000, jitter: 0.3, random: () => randoms[i++ % randoms.length]! } });
        const delays: number[] = [];
        client.on("disconnected", (d) => delays.push(d.reconnectInMs!));
        void client.connect();
        await clock.advance(100_000);
        client.close();
        delays.slice(0, 10).forEach((delay, n) => {
          const base = Math.min(8000, 1000 * 2 ** n);
          expect(delay).toBeGreaterThanOrEqual(Math.round(base * 0.7) - 1);
          expect(delay).toBeLessThanOrEqual(Math.min(8000, Math.round(base * 1.3) + 1));
        });
      }),
      { numRuns: 50 },
    );
  });

  it("gives up on a silent broker after the CONNACK timeout and retries", async () => {
    const { clock, broker, client, events } = setup({ connackTimeoutMs: 5000 });
    broker.connack = false;
    void client.connect();
    await clock.advance(5000);
    expect(events.disconnected[0]!.error?.code).toBe("CONNACK_TIMEOUT");
    broker.connack = 0;
    await clock.advance(1000);
    expect(client.state).toBe("connected");
  });

  it("resubscribes after a reconnect without a session, and not when the session is present", async () => {
    const { clock, broker, client } = setup({ cleanSession: false });
    await client.connect();
    await client.subscribeMany([
      { filter: "cmd/device/#", handler: () => undefined, qos: 1 },
      { filter: "ota/+", handler: () => undefined, qos: 0 },
    ]);
    broker.link.drop();
    await clock.advance(1000);
    const resubscribe = broker.links[1]!.received.find((p) => p.type === "subscribe");
    expect(resubscribe).toMatchObject({ subscriptions: [{ filter: "cmd/device/#", qos: 1 }, { filter: "ota/+", qos: 0 }] });
    broker.sessionPresent = true;
    broker.link.drop();
    await clock.advance(2000);
    expect(broker.links).toHaveLength(3);
    expect(broker.links[2]!.types()).toEqual(["connect"]);
  });

  it("retransmits an unacknowledged QoS 1 PUBLISH with DUP and the same packet id after a reconnect", async () => {
    const { clock, broker, client } = setup();
    broker.ackPublishes = false;
    await client.connect();
    let acknowledged = false;
    void client.publish("sensor/device", '{"seq":1}', { qos: 1 }).then(() => (acknowledged = true));
    await clock.advance(0);
    const first = broker.link.received.find((p) => p.type === "publish");
    expect(first).toMatchObject({ dup: false, qos: 1 });
    broker.link.drop();
    broker.ackPublishes = true;
    await clock.advance(1000);
    const again = broker.links[1]!.received.find((p) => p.type === "publish");
    expect(again).toMatchObject({ dup: true, qos: 1, packetId: (first as { packetId: number }).packetId });
    expect(acknowledged).toBe(true);
    expect(client.queued).toBe(0);
  });

  it("after PUBREC resends PUBREL, not PUBLISH — across a reconnect and across a reboot", async () => {
    const { clock, broker, client, make } = setup();
    await client.connect();
    broker.ackPublishes = false;
    const done = client.publish("cmd/x", "once", { qos: 2 });
    await clock.advance(0);
    const publish = broker.link.received.find((p) => p.type === "publish") as { packetId: number };
    broker.link.send({ type: "pubrec", packetId: publish.packetId });
    await clock.advance(0);
    expect(broker.link.types()).toEqual(["connect", "publish", "pubrel"]);
    broker.link.drop();
    await clock.advance(1000);
    expect(broker.link.types()).toEqual(["connect", "pubrel"]);
    client.close();
    await expect(done).rejects.toThrow(/stays queued in storage/);
    // reboot: a new client on the same storage
    const rebooted = make();
    expect(rebooted.queued).toBe(1);
    broker.ackPublishes = true;
    await rebooted.connect();
    await clock.advance(0);
    expect(broker.link.types()).toEqual(["connect", "pubrel"]);
    expect(broker.link.received[1]).toMatchObject({ packetId: publish.packetId });
    expect(rebooted.queued).toBe(0);
  });

  it("hands an incoming QoS 2 message on once, however often the broker repeats it before PUBREL", async () => {
    const { clock, broker, client } = setup();
    await client.connect();
    const got: MqttMessage[] = [];
    await client.subscribe("cmd/#", (m) => got.push(m), { qos: 2 });
    const publish = { type: "publish" as const, topic: "cmd/servo", payload: Buffer.from("90"), qos: 2 as const, retain: false, dup: false, packetId: 7 };
    broker.link.send(publish);
    broker.link.send({ ...publish, dup: true });
    await clock.advance(0);
    expect(got).toHaveLength(1);
    expect(broker.link.types().filter((t) => t === "pubrec")).toHaveLength(2);
    broker.link.send({ type: "pubrel", packetId: 7 });
    await clock.advance(0);
    expect(broker.link.types().at(-1)).toBe("pubcomp");
    broker.link.send({ ...publish, payload: Buffer.from("180") });
    await clock.advance(0);
    expect(got.map((m) => Buffer.from(m.payload).toString())).toEqual(["90", "180"]);
  });

  it("keeps QoS ≥ 1 messages queued while offline and across a reboot, and sends them in order", async () => {
    const { clock, broker, client, make } = setup();
    broker.down = true;
    void client.connect();
    const pending = [1, 2, 3].map((n) => client.publish("sensor/device", `{"seq":${n}}`, { qos: 1 }));
    expect(client.queued).toBe(3);
    client.close();
    for (const p of pending) await expect(p).rejects.toThrow(/stays queued/);
    broker.down = false;
    const rebooted = make();
    expect(rebooted.queued).toBe(3);
    const delivered: number[] = [];
    rebooted.on("delivered", (d) => delivered.push(d.seq));
    await rebooted.connect();
    await clock.advance(0);
    const sent = broker.link.received.filter((p) => p.type === "publish").map((p) => Buffer.from((p as { payload: Uint8Array }).payload).toString());
    expect(sent).toEqual(['{"seq":1}', '{"seq":2}', '{"seq":3}']);
    expect(delivered).toEqual([0, 1, 2]);
    expect(rebooted.queued).toBe(0);
  });

  it("keeps at most maxInflight messages unacknowledged on the wire", async () => {
    const { clock, broker, client } = setup({ maxInflight: 2 });
    broker.ackPublishes = false;
    await client.connect();
    for (let i = 0; i < 5; i++) void client.publish("t", `${i}`, { qos: 1 });
    await clock.advance(0);
    const publishes = () => broker.link.received.filter((p) => p.type === "publish") as { packetId: number }[];
    expect(publishes()).toHaveLength(2);
    broker.link.send({ type: "puback", packetId: publishes()[0]!.packetId });
    await clock.advance(0);
    expect(publishes()).toHaveLength(3);
  });

  it("refuses a message when the queue is full or when it cannot fit one storage record", async () => {
    const { client } = setup({ queueCapacity: 2 });
    await expect(client.publish("t", new Uint8Array(4000 - 10 - 1 + 1), { qos: 1 })).rejects.toMatchObject({ code: "MESSAGE_TOO_LARGE_TO_QUEUE" });
    await expect(client.publish("t", new Uint8Array(4000 - 10 - 1 + 1), { qos: 1 })).rejects.toThrow(/Keep payloads ≤ 3989 bytes on this topic/);
    void client.publish("t", new Uint8Array(3989), { qos: 1 });
    void client.publish("t", "2", { qos: 1 });
    await expect(client.publish("t", "3", { qos: 1 })).rejects.toMatchObject({ code: "QUEUE_FULL" });
    expect(client.queued).toBe(2);
    await expect(client.publish("t", "x")).rejects.toMatchObject({ code: "OFFLINE" });
  });

  it.each([
    ["a reserved packet type", Uint8Array.of(0x00, 0x00), "BAD_PACKET_TYPE"],
    ["a PUBLISH larger than maxPacketSize", Uint8Array.of(0x30, 0xa0, 0x8d, 0x06), "PACKET_TOO_LARGE"],
    ["a five-byte Remaining Length", Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff), "BAD_REMAINING_LENGTH"],
    ["a SUBSCRIBE (client-bound only)", Uint8Array.of(0x82, 0x06, 0, 1, 0, 1, 0x61, 0), "UNEXPECTED_PACKET"],
    ["a second CONNACK", Uint8Array.of(0x20, 0x02, 0, 0), "UNEXPECTED_PACKET"],
    ["a SUBACK with a code per filter missing", Uint8Array.of(0x90, 0x02, 0, 1), "BAD_SUBACK"],
  ])("drops the link on %s, says why, and loses no queued message", async (_name, bytes, code) => {
    const { clock, broker, client, events } = setup({ maxPacketSize: 4096 });
    broker.ackPublishes = false;
    await client.connect();
    const done = client.publish("sensor/device", "kept", { qos: 1 });
    await clock.advance(0);
    broker.link.sendRaw(bytes);
    await clock.advance(0);
    expect(events.error).toHaveLength(1);
    expect(events.error[0]).toBeInstanceOf(MqttProtocolError);
    expect(events.error[0]!.code).toBe(code);
    expect(events.error[0]!.message).toMatch(/broke MQTT 3\.1\.1.*queued messages are kept/);
    expect(broker.links[0]!.closed).toBe(true);
    expect(client.queued).toBe(1);
    broker.ackPublishes = true;
    await clock.advance(1000);
    await done;
    expect(client.queued).toBe(0);
    expect(broker.parseErrors).toEqual([]);
  });

  it("rejects a packet before CONNACK as a protocol error", async () => {
    const { clock, broker, client, events } = setup();
    broker.connack = false;
    void client.connect();
    await clock.advance(0);
    broker.link.send({ type: "pingresp" });
    await clock.advance(0);
    expect(events.error[0]!.code).toBe("UNEXPECTED_PACKET");
    expect(events.error[0]!.message).toMatch(/before CONNACK/);
  });

  it("survives random bytes from the broker: only typed errors, the queue intact", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 5 }), async (chunks) => {
        const { clock, broker, client, events } = setup({ maxPacketSize: 1024 });
        broker.ackPublishes = false;
        await client.connect();
        void client.publish("t", "kept", { qos: 1 }).catch(() => undefined);
        await clock.advance(0);
        for (const chunk of chunks) broker.link.sendRaw(chunk);
        await clock.advance(0);
        for (const error of events.error) expect(error).toBeInstanceOf(EsplabError);
        expect(client.queued).toBeLessThanOrEqual(1);
        client.close();
      }),
      { numRuns: 300 },
    );
  });
});

describe("MQTT client: nothing acknowledged that no handler took", () => {
  const publish = (packetId: number, topic = "sensor/a", qos: 1 | 2 = 1) => ({
    type: "publish" as const,
    topic,
    payload: Buffer.from(`#${packetId}`),
    qos,
    retain: false,
    dup: false,
    packetId,
  });
  const acks = (broker: ScriptedBroker) =>
    broker.link.received.filter((p) => p.type === "puback" || p.type === "pubrec").map((p) => `${p.type} ${(p as { packetId: number }).packetId}`);
  const text = (messages: MqttMessage[]) => messages.map((m) => Buffer.from(m.payload).toString());

  it("holds a resumed session's messages that arrive before subscribe(), unacknowledged, then hands them on in order and acknowledges", async () => {
    const { clock, broker, client, events } = setup({ cleanSession: false });
    broker.sessionPresent = true;
    await client.connect();
    broker.link.send(publish(1));
    broker.link.send(publish(2, "sensor/b", 2));
    broker.link.send(publish(3));
    await clock.advance(0);
    expect(acks(broker)).toEqual([]);
    expect(client.held).toBe(3);
    expect(events.message).toEqual([]);
    const got: MqttMessage[] = [];
    const subscribed = client.subscribe("sensor/#", (m) => got.push(m), { qos: 1 });
    await clock.advance(0);
    expect(text(got)).toEqual(["#1", "#2", "#3"]);
    expect(acks(broker)).toEqual(["puback 1", "pubrec 2", "puback 3"]);
    expect(client.held).toBe(0);
    expect(text(events.message)).toEqual(["#1", "#2", "#3"]);
    await subscribed;
  });

  it("hands messages arriving right after CONNACK to a handler registered before connect()", async () => {
    const { clock, broker, client } = setup({ cleanSession: false });
    broker.sessionPresent = true;
    const got: MqttMessage[] = [];
    const subscribed = client.subscribe("sensor/#", (m) => got.push(m), { qos: 1 });
    const original = broker.react.bind(broker);
    broker.react = (link, packet) => {
      original(link, packet);
      if (packet.type === "connect") link.send(publish(9)); // the queued backlog, before SUBACK
    };
    await client.connect();
    await clock.advance(0);
    await subscribed;
    expect(text(got)).toEqual(["#9"]);
    expect(acks(broker)).toEqual(["puback 9"]);
    expect(broker.link.types().indexOf("subscribe")).toBeGreaterThan(0); // subscribed on the wire too
  });

  it("keeps topics with a handler flowing while others wait", async () => {
    const { clock, broker, client } = setup();
    await client.connect();
    const got: MqttMessage[] = [];
    await client.subscribe("cmd/#", (m) => got.push(m), { qos: 1 });
    broker.link.send(publish(1, "sensor/a"));
    broker.link.send(publish(2, "cmd/servo"));
    await clock.advance(0);
    expect(text(got)).toEqual(["#2"]);
    expect(acks(broker)).toEqual(["puback 2"]);
    expect(client.held).toBe(1);
  });

  it("drops held messages unacknowledged when the link goes, so the broker's redelivery is the copy handed on", async () => {
    const { clock, broker, client } = setup({ cleanSession: false });
    broker.sessionPresent = true;
    await client.connect();
    broker.link.send(publish(4));
    await clock.advance(0);
    expect(client.held).toBe(1);
    broker.link.drop();
    await clock.advance(0);
    expect(client.held).toBe(0);
    expect(acks({ link: broker.links[0]! } as ScriptedBroker)).toEqual([]);
    const got: MqttMessage[] = [];
    void client.subscribe("sensor/#", (m) => got.push(m), { qos: 1 });
    await clock.advance(1000);
    broker.link.send({ ...publish(4), dup: true });
    await clock.advance(0);
    expect(text(got)).toEqual(["#4"]);
    expect(acks(broker)).toEqual(["puback 4"]);
  });

  it("when the hold is full, says so and leaves the message unacknowledged", async () => {
    const { clock, broker, client, events } = setup({ holdCapacity: 2 });
    await client.connect();
    for (const id of [1, 2, 3]) broker.link.send(publish(id));
    await clock.advance(0);
    expect(client.held).toBe(2);
    expect(events.error.map((e) => e.code)).toEqual(["HOLD_FULL"]);
    expect(events.error[0]!.message).toMatch(/left unacknowledged.*subscribe before connect\(\), or raise holdCapacity/);
    const got: MqttMessage[] = [];
    void client.subscribe("#", (m) => got.push(m));
    await clock.advance(0);
    expect(text(got)).toEqual(["#1", "#2"]);
    expect(acks(broker)).toEqual(["puback 1", "puback 2"]);
    expect(client.state).toBe("connected");
  });

  it("sends no acknowledgement when the handler closes the client (it could not keep the message)", async () => {
    const { clock, broker, client } = setup();
    await client.connect();
    await client.subscribe("sensor/#", () => client.close({ abrupt: true }), { qos: 1 });
    broker.link.send(publish(5));
    await clock.advance(0);
    expect(acks(broker)).toEqual([]);
  });

  it("never acknowledges a message before a handler has it, whatever the arrivals and the moment of subscribe()", async () => {
    const arrival = fc.record({ topic: fc.constantFrom("sensor/a", "sensor/b", "cmd/x"), qos: fc.constantFrom<1 | 2>(1, 2) });
    await fc.assert(
      fc.asyncProperty(fc.array(arrival, { maxLength: 30 }), fc.nat(30), fc.constantFrom("sensor/#", "#", "cmd/x"), async (arrivals, subscribeAt, filter) => {
        const { clock, broker, client, events } = setup({ holdCapacity: 8 });
        await client.connect();
        const handled = new Set<string>();
        const acknowledged: string[] = [];
        const original = broker.react.bind(broker);
        broker.react = (link, packet) => {
          if (packet.type === "puback" || packet.type === "pubrec") {
            expect(handled.has(`#${packet.packetId}`)).toBe(true);
            acknowledged.push(`#${packet.packetId}`);
          }
          original(link, packet);
        };
        for (let i = 0; i < arrivals.length; i++) {
          if (i === subscribeAt) void client.subscribe(filter, (m) => handled.add(Buffer.from(m.payload).toString()), { qos: 2 });
          broker.link.send(publish(i + 1, arrivals[i]!.topic, arrivals[i]!.qos));
          await clock.advance(0);
        }
        if (subscribeAt >= arrivals.length) void client.subscribe(filter, (m) => handled.add(Buffer.from(m.payload).toString()), { qos: 2 });
        await clock.advance(0);
        expect(new Set(acknowledged)).toEqual(handled);
        expect(acknowledged).toHaveLength(handled.size);
        const matching = arrivals.filter((a) => filter === "#" || a.topic.startsWith(filter.replace("#", ""))).length;
        const overflowed = events.error.some((e) => e.code === "HOLD_FULL");
        if (overflowed) expect(handled.size).toBeLessThanOrEqual(matching);
        else expect(handled.size).toBe(matching);
        client.close();
      }),
      { numRuns: 300 },
    );
  });
  it("acknowledges a message whose handler returns a promise only once it settles, in arrival order", async () => {
    const { clock, broker, client } = setup();
    await client.connect();
    const finish = new Map<string, () => void>();
    await client.subscribe("sensor/#", (m) => new Promise<void>((resolve) => finish.set(Buffer.from(m.payload).toString(), resolve)), { qos: 1 });
    for (const id of [1, 2, 3]) broker.link.send(publish(id));
    await clock.advance(0);
    expect(acks(broker)).toEqual([]);
    finish.get("#2")!(); // the second is done first: its PUBACK waits for the first's
    await clock.advance(0);
    expect(acks(broker)).toEqual([]);
    finish.get("#1")!();
    await clock.advance(0);
    expect(acks(broker)).toEqual(["puback 1", "puback 2"]);
    finish.get("#3")!();
    await clock.advance(0);
    expect(acks(broker)).toEqual(["puback 1", "puback 2", "puback 3"]);
  });

  it("reports a handler's rejected promise and still acknowledges, as it does for a handler that throws", async () => {
    const { clock, broker, client, events } = setup();
    await client.connect();
    await client.subscribe("sensor/#", () => Promise.reject(new Error("disk on fire")), { qos: 1 });
    broker.link.send(publish(7));
    await clock.advance(0);
    expect(events.error.map((e) => e.code)).toEqual(["HANDLER_FAILED"]);
    expect(events.error[0]!.message).toMatch(/disk on fire/);
    expect(acks(broker)).toEqual(["puback 7"]);
  });

  it("sends no acknowledgement for a handler still working when the link drops; the redelivery is handed on again", async () => {
    const { clock, broker, client } = setup({ cleanSession: false });
    broker.sessionPresent = true;
    await client.connect();
    const finish: (() => void)[] = [];
    const got: string[] = [];
    await client.subscribe("sensor/#", (m) => new Promise<void>((resolve) => { got.push(Buffer.from(m.payload).toString()); finish.push(resolve); }), { qos: 2 });
    broker.link.send(publish(4, "sensor/a", 2));
    await clock.advance(0);
    const first = broker.link;
    first.drop();
    finish.shift()!(); // settles after the link is gone
    await clock.advance(1000);
    expect(first.received.filter((p) => p.type === "pubrec")).toEqual([]);
    broker.link.send({ ...publish(4, "sensor/a", 2), dup: true });
    await clock.advance(0);
    expect(got).toEqual(["#4", "#4"]); // not yet acknowledged, so not known as handed on
    finish.shift()!();
    await clock.advance(0);
    expect(acks(broker)).toEqual(["pubrec 4"]);
  });
});
