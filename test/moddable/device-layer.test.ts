import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildLinuxApp, bundleModdableEntry, rootStoreFiles, type LinuxApp, type RunResult } from "../../host-tools/moddable/linux-host.ts";
import type { LabCommand, LabReady, LabSetup } from "./support/netns-lab.ts";
import { moddable as sdk } from "../support/moddable.ts";
import { makeTestPki } from "./support/test-ca.ts";

const canUnshare = sdk !== undefined && spawnSync("unshare", ["-n", "sh", "-c", "ip link set lo up"]).status === 0;
if (sdk && !canUnshare) console.warn("\n  NOTICE: cannot make a private network namespace (unshare -n; needs root or user namespaces, and iproute2): the device-layer tests on Moddable's runtime are skipped.\n");

const root = path.resolve(import.meta.dirname, "../..");
const NAMES = { database: "db.esplab.test", auth: "auth.esplab.test", mqtt: "mqtt.esplab.test", wrong: "wrong.esplab.test" };

interface Outcome {
  result: RunResult;
  /** What the app reported on its "result" line. */
  value: any;
  dnsQueries: string[];
}

describe.skipIf(!canUnshare)("the device layer (firmware/platform/moddable) on Moddable's Linux runtime, over real TLS and DNS", { timeout: 90_000 }, () => {
  let work: string;
  let lab: ChildProcess;
  let ready: LabReady;
  let certs: string;
  const waiting = new Map<number, (answer: any) => void>();
  let nextId = 1;

  const ask = (command: Omit<LabCommand, "id">): Promise<any> =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      lab.stdin!.write(`${JSON.stringify({ ...command, id })}\n`);
    });

  async function run(spec: object, timeoutMs = 40_000): Promise<Outcome> {
    const answer = await ask({ run: [JSON.stringify({ dns: "127.0.0.1", ...spec })], timeoutMs });
    const result = answer.result as RunResult;
    const line = result.lines.find((l) => l.startsWith("result "));
    if (!line || process.env.ESPLAB_TRACE) console.warn([...result.lines, result.stderr].join("\n"));
    return { result, value: line ? JSON.parse(line.slice("result ".length)) : undefined, dnsQueries: answer.dnsQueries };
  }

  const pem = (name: string) => fs.readFileSync(path.join(certs, name), "utf8");

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-device-layer-"));
    certs = path.join(work, "certs");
    makeTestPki(certs, [NAMES.database, NAMES.auth, NAMES.mqtt]);
    const main = await bundleModdableEntry(path.join(root, "test/fixtures/moddable/device-layer.ts"), path.join(work, "device-layer.js"));
    const app: LinuxApp = await buildLinuxApp({
      sdk: sdk!,
      name: "device-layer",
      main,
      // The roots the device firmware carries (manifest.json "data"), found by key id as on the ESP32.
      resources: rootStoreFiles(sdk!, ["ca222", "ca233", "ca236"]),
      // The device's memory limits (manifest.json "creation": its JavaScript stack is what the TLS receive path
      // runs in), not Moddable's smaller defaults for the simulator.
      creation: JSON.parse(fs.readFileSync(path.join(root, "manifest.json"), "utf8")).creation,
    });
    const state = path.join(work, "state");
    fs.mkdirSync(state);
    const records = Object.fromEntries(Object.values(NAMES).map((name) => [name, "127.0.0.1"]));
    const setup: LabSetup = { app, certs, state, records };
    lab = spawn("unshare", ["-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', process.execPath, "--import", "tsx", path.join(import.meta.dirname, "support/netns-lab.ts"), JSON.stringify(setup)], {
      cwd: root,
      stdio: ["pipe", "pipe", "inherit"],
    });
    const lines = readline.createInterface({ input: lab.stdout! });
    ready = await new Promise<LabReady>((resolve, reject) => {
      lab.once("exit", (code) => reject(new Error(`the network-namespace lab stopped (exit ${code}) before it was ready`)));
      lines.on("line", (line) => {
        const message = JSON.parse(line);
        if (message.ready) resolve(message);
        else waiting.get(message.id)?.(message);
      });
    });
  }, 240_000);

  afterAll(async () => {
    if (lab && lab.exitCode === null) {
      const exited = new Promise((resolve) => lab.once("exit", resolve));
      lab.stdin!.write(`${JSON.stringify({ id: 0, close: true })}\n`);
      await exited;
    }
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  const connectTo = (host: string, port: number, ca = pem("ca.pem")) => ({ kind: "connect", target: { host, port, tls: { ca: [ca] } } });

  it("connects over TLS to a host name through Moddable's UDP resolver, checking the chain against the given CA", async () => {
    const { result, value, dnsQueries } = await run(connectTo(NAMES.database, ready.databasePort));
    expect(result.abort).toBeUndefined();
    expect(value).toEqual({ connected: true });
    expect(dnsQueries).toContain(NAMES.database);
  });

  it.each([
    ["a server whose chain ends at another CA", () => connectTo(NAMES.database, ready.databasePort, pem("other-ca.pem")), "TLS_CERTIFICATE"],
    ["a host name the certificate does not name", () => connectTo(NAMES.wrong, ready.databasePort), "TLS_CERTIFICATE"],
    ["a refused connection", () => connectTo(NAMES.database, ready.closedPort), "REFUSED"],
    ["an unknown host", () => connectTo("nowhere.esplab.test", ready.databasePort), "DNS"],
    ["a server that refuses TLS 1.2 with an alert", () => connectTo(NAMES.database, ready.tls13OnlyPort), "TLS_ALERT"],
    ["a server that never answers the handshake", () => ({ kind: "connect", target: { ...connectTo(NAMES.database, ready.silentPort).target, timeoutMs: 500 } }), "TIMEOUT"],
  ])("ends %s as the transport's TransportError, not a VM abort", async (_what, spec, code) => {
    const { result, value } = await run(spec());
    expect(result.abort).toBeUndefined();
    expect(result.status).toBe(0);
    expect(value.error).toMatchObject({ name: "TransportError", constructor: "TransportError", code });
    expect(value.error.message).toMatch(/^TLS to [a-z.]+:\d+: |^cannot resolve /);
  });

  it("queues a write larger than the socket takes at once (lin: 1536 bytes) and sends it all over plain TCP", async () => {
    const { result, value } = await run({ kind: "echo", target: { host: NAMES.database, port: ready.echoPort } });
    expect(result.abort).toBeUndefined();
    expect(value).toEqual({ received: 5000, same: true });
  });

  it("signs in with Firebase Auth and puts, gets and streams the Realtime Database over HTTPS", async () => {
    const { result, value } = await run({
      kind: "firebase",
      ca: pem("ca.pem"),
      databaseUrl: `https://${NAMES.database}:${ready.databasePort}?ns=${ready.namespace}`,
      authBase: `https://${NAMES.auth}:${ready.authPort}`,
      email: ready.user.email,
      password: ready.user.password,
    });
    expect(result.abort).toBeUndefined();
    expect(value).toMatchObject({ read: 42, noteLength: 6000 });
    expect(value.streamed).toContain(42);
    expect(value.streamed.at(-1)).toBe(43);
    const stored = await ask({ get: `devices/${value.uid}` });
    expect(stored.value).toMatchObject({ reading: 43 });
  });

  it.each([
    ["PKCS#1 (as AWS IoT hands it out)", "client.key"],
    ["PKCS#8", "client-pkcs8.key"],
  ])("talks MQTT over mutual TLS with the AWS profile, the client key as %s", async (_what, key) => {
    const { result, value } = await run({
      kind: "aws-mqtt",
      endpoint: NAMES.mqtt,
      port: ready.mqttPort,
      ca: pem("ca.pem"),
      certificate: pem("client.pem"),
      privateKey: pem(key),
      thingName: "esplab-test-thing",
    });
    expect(result.abort).toBeUndefined();
    expect(value).toEqual({ echoed: "hello over mutual TLS" });
  });

  it("ends the AWS profile's connection as a TLS handshake error when the broker does not trust the client certificate", async () => {
    const { result, value } = await run({
      kind: "aws-mqtt",
      endpoint: NAMES.mqtt,
      port: ready.mqttPort,
      ca: pem("ca.pem"),
      certificate: pem("stranger.pem"),
      privateKey: pem("stranger.key"),
      thingName: "esplab-test-thing",
    });
    expect(result.abort).toBeUndefined();
    expect(value.error).toMatchObject({ name: "TransportError", code: "TLS_HANDSHAKE" });
  });

  it("keeps Preference values across runs, as NVS keeps them across reboots", async () => {
    const first = await run({ kind: "storage" });
    const second = await run({ kind: "storage" });
    expect(first.value).toEqual({ before: null, boots: 1, blob: [1, 2, 3], keys: ["blob", "boots"] });
    expect(second.value).toMatchObject({ before: 1, boots: 2 });
  });

  it("runs the Clock on Moddable's timers: timeouts, intervals and clears", async () => {
    const { value } = await run({ kind: "clock" });
    expect(value.order.filter((e: string) => e === "tick")).toHaveLength(3);
    expect(value.order).toContain("timeout");
    expect(value.order).not.toContain("cancelled");
    expect(value).toMatchObject({ elapsedPositive: true, epochSet: true });
  });
});
