/**
 * The readings path with the subscriber killed mid-stream: a device publishes numbered QoS 1 readings while
 * `esplab readings subscribe` (a child process) is killed with SIGKILL twice and started again. The broker keeps the
 * subscriber's session; every reading must end up in the store.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MqttClient } from "../../../../firmware/net/mqtt/client.ts";
import { ReadingsStore } from "../../../../host-tools/cloud/readings/readings-store.ts";
import { NodeTransport } from "../../../../host-tools/platform/node-transport.ts";
import { SystemClock } from "../../../../host-tools/platform/system-clock.ts";
import { until } from "../../../support/until.ts";
import { mosquittoPath, startAedes, startMosquitto } from "../../../firmware/net/mqtt/brokers.ts";

const root = path.resolve(import.meta.dirname, "../../../..");
const cli = path.join(root, "bin/esplab.js");
const mosquitto = mosquittoPath();
if (!mosquitto) console.warn("NOTICE: mosquitto is not installed — skipping the subscriber-restart test against mosquitto with persistence (apt-get install mosquitto; CI installs it)");

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Running {
  child: ChildProcess;
  /** Sequence numbers it printed as stored (or as duplicates), in order. */
  seqs: number[];
  output: () => string;
}

function startSubscriber(url: string, db: string): Promise<Running> {
  const child = spawn(process.execPath, [cli, "readings", "subscribe", "--broker", url, "--db", db], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  const seqs: number[] = [];
  let output = "";
  let pending = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    output += chunk;
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      const match = /^Device001 #(\d+)/.exec(line);
      if (match) seqs.push(Number(match[1]));
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk));
  return new Promise((resolve, reject) => {
    const check = () => {
      if (/subscribed to sensor\/#/.test(output)) resolve({ child, seqs, output: () => output });
    };
    child.stderr!.on("data", check);
    child.once("exit", (code) => reject(new Error(`readings subscribe exited with ${code}: ${output}`)));
  });
}

async function kill(running: Running): Promise<void> {
  const exited = new Promise((resolve) => running.child.once("exit", resolve));
  running.child.kill("SIGKILL");
  await exited;
}

async function soak(port: number): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "esplab-subscriber-restart-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const db = path.join(dir, "readings.sqlite");
  const url = `mqtt://127.0.0.1:${port}`;

  const runs: Running[] = [await startSubscriber(url, db)];
  const device = new MqttClient({
    transport: new NodeTransport(),
    clock: new SystemClock(),
    target: { host: "127.0.0.1", port },
    clientId: "Device001",
    queueCapacity: 10_000,
    reconnect: { initialMs: 20, maxMs: 200 },
  });
  cleanups.push(() => device.close());
  await device.connect();
  // The device publishes a numbered reading every few milliseconds from start to end, restarts included.
  let next = 1;
  let stop = false;
  const publishing = (async () => {
    for (; !stop; next++) {
      void device.publish("sensor/Device001", JSON.stringify({ seq: next, distance_cm: next / 10 }), { qos: 1 }).catch(() => undefined);
      await sleep(3);
    }
  })();
  /** For each restart, the first sequence number the device had not yet published when the subscriber came back. */
  const nextAtRestart: number[] = [];
  for (let restart = 0; restart < 2; restart++) {
    const current = runs.at(-1)!;
    await until(() => current.seqs.length >= 30, "the subscriber storing readings", 20_000);
    await kill(current);
    const firstWhileDown = next;
    await until(() => next >= firstWhileDown + 20, "readings published while no subscriber runs", 20_000);
    nextAtRestart.push(next);
    runs.push(await startSubscriber(url, db)); // the broker sends the backlog right after CONNACK, and live readings follow
  }
  await until(() => runs.at(-1)!.seqs.length >= 30, "the last subscriber storing readings", 20_000);
  stop = true;
  await publishing;
  const N = next - 1;
  await until(() => device.queued === 0, "the device's queue to drain", 20_000);
  const seen = () => new Set(runs.flatMap((run) => run.seqs));
  await until(() => seen().size === N, `all ${N} readings`, 10_000).catch(() => undefined); // the store check below names what is missing
  const last = runs.at(-1)!;
  const exited = new Promise((resolve) => last.child.once("exit", resolve));
  last.child.kill("SIGTERM");
  await exited;

  nextAtRestart.forEach((next, i) => expect(runs[i + 1]!.seqs.some((seq) => seq < next)).toBe(true)); // each restart took a backlog the broker kept
  const store = new ReadingsStore(db);
  cleanups.push(() => store.close());
  const stored = store.readings({ device: "Device001" }).map((reading) => reading.seq);
  expect(stored).toEqual(Array.from({ length: N }, (_, i) => i + 1)); // none lost, each once
}

describe("readings subscriber killed mid-stream and restarted", () => {
  it("against aedes: no reading is lost", async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.close());
    await soak(broker.port);
  }, 60_000);

  (mosquitto ? it : it.skip)("against mosquitto with persistence: no reading is lost", async () => {
    const broker = await startMosquitto(mosquitto!, { persistence: true });
    cleanups.push(() => broker.close());
    await soak(broker.port);
  }, 60_000);
});
