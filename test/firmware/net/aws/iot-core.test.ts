import tls from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { AWS_MQTT_ALPN, awsIotClientOptions, awsIotTarget, createAwsIotClient, type AwsIotOptions } from "../../../../firmware/net/aws/iot-core.ts";
import { MqttUsageError } from "../../../../firmware/net/mqtt/errors.ts";
import { NodeTransport } from "../../../../host-tools/platform/node-transport.ts";
import { SystemClock } from "../../../../host-tools/platform/system-clock.ts";
import { startAedes, waitFor, type TestBroker } from "../mqtt/brokers.ts";
import { hasOpenssl, makeTestPki } from "./test-pki.ts";
import { MqttClient } from "../../../../firmware/net/mqtt/client.ts";

const ENDPOINT = "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com";
const PEM = { certificate: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----", privateKey: "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----", rootCa: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----" };
const options = (extra: Partial<AwsIotOptions> = {}): AwsIotOptions => ({ endpoint: ENDPOINT, thingName: "lab-thing", ...PEM, ...extra });
const platform = { transport: new NodeTransport(), clock: new SystemClock() };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("AWS IoT Core profile", () => {
  it("uses TLS with the device certificate, the root CA and SNI on 8883; ALPN x-amzn-mqtt-ca on 443", () => {
    expect(awsIotTarget(options())).toMatchObject({
      host: ENDPOINT,
      port: 8883,
      tls: { serverName: ENDPOINT, ca: [PEM.rootCa], certificate: PEM.certificate, key: PEM.privateKey },
    });
    expect(awsIotTarget(options()).tls!.alpn).toBeUndefined();
    expect(awsIotTarget(options({ port: 443 })).tls!.alpn).toEqual(["x-amzn-mqtt-ca"]);
    const client = awsIotClientOptions(options(), platform);
    expect(client.clientId).toBe("lab-thing");
    expect(client.limits).toMatchObject({ maxQos: 1, maxPayloadBytes: 131072, maxFiltersPerSubscribe: 8, maxTopicSlashes: 7 });
  });

  it.each([
    ["an endpoint with a scheme", { endpoint: "mqtts://x.iot.amazonaws.com" }, "BAD_ENDPOINT"],
    ["port 1883", { port: 1883 as 8883 }, "BAD_PORT"],
    ["a missing key", { privateKey: "" }, "BAD_CREDENTIALS"],
    ["a thing name with a space", { thingName: "lab thing" }, "BAD_THING_NAME"],
    ["keepalive 10 s", { keepAliveSeconds: 10 }, "BAD_KEEPALIVE"],
    ["keepalive 1300 s", { keepAliveSeconds: 1300 }, "BAD_KEEPALIVE"],
  ])("refuses %s with a named error", (_name, extra, code) => {
    expect(() => awsIotClientOptions(options(extra), platform)).toThrow(expect.objectContaining({ code }));
  });

  it("enforces AWS limits before sending: QoS 2, 128 KB, 7 slashes; splits SUBSCRIBE into 8 filters", async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.close());
    const subscribePackets: number[] = [];
    broker.aedes.on("subscribe", (subscriptions) => subscribePackets.push(subscriptions.length));
    const client = createAwsIotClient(options(), platform, { target: { host: "127.0.0.1", port: broker.port } });
    cleanups.push(() => client.close());
    await client.connect();
    await expect(client.publish("sensor/lab-thing", "x", { qos: 2 })).rejects.toMatchObject({ code: "QOS_NOT_SUPPORTED" });
    await expect(client.publish("sensor/lab-thing", "x", { qos: 2 })).rejects.toThrow(/AWS IoT Core supports QoS up to 1/);
    await expect(client.subscribe("cmd/#", () => undefined, { qos: 2 })).rejects.toBeInstanceOf(MqttUsageError);
    await expect(client.publish("a/b/c/d/e/f/g/h/i", "x")).rejects.toMatchObject({ code: "TOO_MANY_LEVELS" });
    await expect(client.publish("big", new Uint8Array(128 * 1024 + 1))).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    const results = await client.subscribeMany(Array.from({ length: 9 }, (_, i) => ({ filter: `cmd/lab-thing/${i}`, handler: () => undefined, qos: 1 as const })));
    expect(results.map((r) => r.granted)).toEqual(Array(9).fill(1));
    expect(subscribePackets).toEqual([8, 1]);
    await client.publish("a/b/c/d/e/f/g/h", "seven slashes are fine", { qos: 1 });
  });

  (hasOpenssl() ? it : it.skip)("connects over mutual TLS with SNI and ALPN x-amzn-mqtt-ca to a broker that demands them", async () => {
    const pki = makeTestPki(ENDPOINT);
    const broker = await startAedes();
    cleanups.push(() => broker.close());
    const seen: { servername?: string | false | null; alpn?: string | false | null; authorized?: boolean }[] = [];
    const server = tls.createServer(
      { cert: pki.serverCert, key: pki.serverKey, ca: [pki.ca], requestCert: true, rejectUnauthorized: true, ALPNProtocols: [AWS_MQTT_ALPN] },
      (socket) => {
        seen.push({ servername: socket.servername, alpn: socket.alpnProtocol, authorized: socket.authorized });
        broker.aedes.handle(socket);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as { port: number }).port;
    const profile = options({ port: 443, certificate: pki.deviceCert, privateKey: pki.deviceKey, rootCa: pki.ca });
    // the profile's TLS settings, only the address redirected to the local broker
    const client = createAwsIotClient(profile, platform, { target: { ...awsIotTarget(profile), host: "127.0.0.1", port } });
    cleanups.push(() => client.close());
    await client.connect();
    await client.publish("sensor/lab-thing", '{"temp":22}', { qos: 1 });
    expect(seen).toEqual([{ servername: ENDPOINT, alpn: AWS_MQTT_ALPN, authorized: true }]);
    // and a device without a certificate is turned away at the TLS layer, with a TransportError
    const anonymous = new MqttClient({ ...awsIotClientOptions(profile, platform), target: { host: "127.0.0.1", port, tls: { serverName: ENDPOINT, ca: [pki.ca], alpn: [AWS_MQTT_ALPN] } }, reconnect: false });
    cleanups.push(() => anonymous.close());
    await expect(anonymous.connect()).rejects.toMatchObject({ name: expect.stringMatching(/TransportError|MqttConnectionError/) });
    await waitFor(() => anonymous.state === "closed", "the anonymous client to stop");
  });
});
