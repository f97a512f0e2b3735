import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AWS_MQTT_ALPN, awsIotTarget, createAwsIotClient, type AwsIotOptions } from "../../../../firmware/net/aws/iot-core.ts";
import { DeviceShadow } from "../../../../firmware/net/aws/shadow.ts";
import { MqttClient } from "../../../../firmware/net/mqtt/client.ts";
import { startIotCore, type IotCore } from "../../../../host-tools/cloud/iot/iot-core.ts";
import { NodeTransport } from "../../../../host-tools/platform/node-transport.ts";
import { SystemClock } from "../../../../host-tools/platform/system-clock.ts";
import { waitFor } from "../../../firmware/net/mqtt/brokers.ts";
import { hasOpenssl, makeTestPki } from "../../../firmware/net/aws/test-pki.ts";

const clock = new SystemClock();
const platform = { transport: new NodeTransport(), clock };
let dir: string;
let core: IotCore;
const log: string[] = [];
const things: Record<string, { certificate: string; privateKey: string }> = {};
const clients: MqttClient[] = [];

function profile(thingName: string, extra: Partial<AwsIotOptions> = {}): AwsIotOptions {
  return { endpoint: core.endpoint, port: core.port, thingName, certificate: things[thingName]!.certificate, privateKey: things[thingName]!.privateKey, rootCa: core.rootCaPem, ...extra };
}

function device(options: AwsIotOptions, clientId?: string): MqttClient {
  const client = createAwsIotClient(options, platform, { reconnect: false, ...(clientId ? { clientId } : {}) });
  clients.push(client);
  return client;
}

async function refused(client: MqttClient, reason: RegExp): Promise<void> {
  log.length = 0;
  await expect(client.connect()).rejects.toMatchObject({ name: expect.stringMatching(/TransportError|MqttConnectionError/) });
  await waitFor(() => log.some((line) => reason.test(line)), `a log line matching ${reason}`);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-iot-"));
  core = await startIotCore({ dataDir: dir, port: 0, alpnPort: 0, log: (line) => log.push(line) });
  for (const name of ["lab-thing", "other-thing", "revoked-thing"]) {
    const { certificate } = await core.registry.createThing(name);
    things[name] = { certificate: certificate.certificatePem, privateKey: certificate.privateKeyPem };
  }
}, 30_000);
afterAll(async () => {
  for (const client of clients) client.close();
  await core?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("esplab iot: certificates", () => {
  it("hands out what AWS does: a certificate, a PKCS#1 key, and a certificate id that is the SHA-256 of the DER", () => {
    const [record] = core.registry.things().find((entry) => entry.thing.thingName === "lab-thing")!.certificates;
    expect(things["lab-thing"]!.privateKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(record!.certificateId).toMatch(/^[0-9a-f]{64}$/);
    expect(record!.certificateArn).toBe(`arn:aws:iot:local:000000000000:cert/${record!.certificateId}`);
    expect(record!.status).toBe("ACTIVE");
  });

  it("admits a registered thing over mutual TLS on the MQTT port and on the ALPN port", async () => {
    const client = device(profile("lab-thing"));
    await client.connect();
    const seen: string[] = [];
    core.onPublish((message) => seen.push(`${message.client}:${message.topic}`));
    await client.publish("sensor/lab-thing", '{"temp":22}', { qos: 1 });
    expect(seen).toContain("lab-thing:sensor/lab-thing");
    client.close();
    // 443 at AWS: the firmware profile offers ALPN x-amzn-mqtt-ca there; the local port is another number
    const overAlpn = new MqttClient(overAlpnOptions(profile("lab-thing", { port: 443 })));
    clients.push(overAlpn);
    await overAlpn.connect();
    await overAlpn.publish("sensor/lab-thing", "{}", { qos: 1 });
    overAlpn.close();
  });

  it("refuses at connection a certificate from another CA, none at all, and no ALPN on the ALPN port — saying why", async () => {
    if (hasOpenssl()) {
      const stranger = makeTestPki("localhost");
      const client = createAwsIotClient({ ...profile("lab-thing"), certificate: stranger.deviceCert, privateKey: stranger.deviceKey }, platform, { reconnect: false });
      clients.push(client);
      await refused(client, /not signed by this IoT Core's CA/);
    }
    const anonymous = new MqttClient({ transport: platform.transport, clock, clientId: "lab-thing", reconnect: false, target: { host: "127.0.0.1", port: core.port, tls: { ca: [core.rootCaPem] } } });
    clients.push(anonymous);
    await refused(anonymous, /sent no client certificate/);
    const noAlpn = new MqttClient({
      transport: platform.transport,
      clock,
      clientId: "lab-thing",
      reconnect: false,
      target: { ...awsIotTarget(profile("lab-thing")), port: core.alpnPort! },
    });
    clients.push(noAlpn);
    await refused(noAlpn, /did not ask for ALPN x-amzn-mqtt-ca/);
  });

  it("refuses a revoked or deleted certificate, and one made inactive loses its rights while connected", async () => {
    core.registry.setStatus("revoked-thing", "REVOKED");
    await refused(device(profile("revoked-thing")), /certificate of revoked-thing is REVOKED/);
    expect(() => core.registry.setStatus("revoked-thing", "ACTIVE")).toThrow(/stays revoked/);

    const connected = device(profile("other-thing"));
    await connected.connect();
    core.registry.setStatus("other-thing", "INACTIVE");
    // its next publish is refused by policy evaluation against the current status: AWS disconnects the client
    await connected.publish("sensor/other-thing", "{}", { qos: 1 }).catch(() => undefined);
    await waitFor(() => connected.state !== "connected", "the inactive thing to be disconnected");
    await refused(device(profile("other-thing")), /other-thing is INACTIVE; activate it/);
    core.registry.setStatus("other-thing", "ACTIVE");
    const again = device(profile("other-thing"));
    await again.connect();
    again.close();
    // a deleted thing's certificate is unknown from then on
    const { certificate } = await core.registry.createThing("short-lived");
    things["short-lived"] = { certificate: certificate.certificatePem, privateKey: certificate.privateKeyPem };
    core.registry.deleteThing("short-lived");
    await refused(device(profile("short-lived")), /is not registered here any more/);
  });
});

describe("esplab iot: policies", () => {
  it("lets a thing connect only as itself", async () => {
    log.length = 0;
    const impostor = device(profile("lab-thing"), "other-thing");
    await expect(impostor.connect()).rejects.toBeDefined();
    expect(log.join("\n")).toMatch(/refused CONNECT from lab-thing as client id "other-thing"/);
  });

  it("confines publish, subscribe and receive to the thing's own topics", async () => {
    const other = device(profile("other-thing"));
    await other.connect();
    const received: string[] = [];
    await other.subscribe("cmd/other-thing/#", (message) => received.push(message.topic), { qos: 1 });
    const lab = device(profile("lab-thing"));
    await lab.connect();
    // another thing's commands: SUBACK 0x80, the connection stays
    await expect(lab.subscribe("cmd/other-thing/#", () => undefined, { qos: 1 })).rejects.toThrow(/refused the subscription/);
    expect(lab.state).toBe("connected");
    await core.publish("cmd/other-thing/servo", "90");
    await waitFor(() => received.length === 1, "the command to reach other-thing");
    // publishing to another thing's topic: disconnected, as AWS does
    log.length = 0;
    await lab.publish("cmd/other-thing/servo", "0", { qos: 1 }).catch(() => undefined);
    await waitFor(() => lab.state !== "connected", "lab-thing to be disconnected");
    expect(log.join("\n")).toMatch(/lab-thing may not publish to cmd\/other-thing\/servo/);
    expect(received).toEqual(["cmd/other-thing/servo"]);
  });
});

describe("esplab iot: Device Shadow service", () => {
  it("serves the firmware's DeviceShadow: reported, desired, delta; and named shadows with delete", async () => {
    const client = device(profile("lab-thing"));
    await client.connect();
    const shadow = new DeviceShadow({ client, clock, thingName: "lab-thing" });
    const deltas: unknown[] = [];
    shadow.onDelta((delta) => deltas.push(delta.state));
    await shadow.start();
    await shadow.updateReported({ servo: 90 });
    core.shadows.publish("$aws/things/lab-thing/shadow/update", { state: { desired: { servo: 45 } } });
    await waitFor(() => deltas.length === 1, "the delta");
    expect(deltas[0]).toEqual({ servo: 45 });
    expect(core.shadows.document("lab-thing")).toMatchObject({ state: { desired: { servo: 45 }, reported: { servo: 90 }, delta: { servo: 45 } }, version: 2 });

    const answers: { topic: string; body: any }[] = [];
    await client.subscribe("$aws/things/lab-thing/shadow/name/config/#", (message) => answers.push({ topic: message.topic, body: JSON.parse(new TextDecoder().decode(message.payload)) }), { qos: 1 });
    const named = (operation: string, body: unknown) => client.publish(`$aws/things/lab-thing/shadow/name/config/${operation}`, JSON.stringify(body), { qos: 1 });
    await named("update", { state: { reported: { interval_ms: 2000 } }, clientToken: "t1" });
    await named("delete", { clientToken: "t2" });
    await named("get", { clientToken: "t3" });
    await waitFor(() => answers.some((a) => a.topic.endsWith("/get/rejected")), "the get after delete");
    expect(answers.find((a) => a.topic.endsWith("/update/accepted"))!.body).toMatchObject({ version: 1, clientToken: "t1" });
    expect(answers.find((a) => a.topic.endsWith("/delete/accepted"))!.body).toMatchObject({ version: 1, clientToken: "t2" });
    expect(answers.find((a) => a.topic.endsWith("/get/rejected"))!.body).toMatchObject({ code: 404, clientToken: "t3" });
    // made again, a deleted shadow continues its version (AWS: within 48 hours)
    await named("update", { state: { reported: { interval_ms: 500 } } });
    await waitFor(() => core.shadows.document("lab-thing", "config")?.version === 2, "version 2 after delete");
    expect(core.shadows.document("lab-thing")!.version).toBe(2);
    client.close();
  });
});

function overAlpnOptions(options: AwsIotOptions) {
  const target = awsIotTarget(options);
  expect(target.tls!.alpn).toEqual([AWS_MQTT_ALPN]);
  return { transport: platform.transport, clock, clientId: options.thingName, reconnect: false as const, target: { ...target, port: core.alpnPort! } };
}
