import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MqttClient } from "../../../firmware/net/mqtt/client.ts";
import { NodeTransport } from "../../../host-tools/platform/node-transport.ts";
import { SystemClock } from "../../../host-tools/platform/system-clock.ts";

const root = path.resolve(import.meta.dirname, "../../..");
const cli = path.join(root, "bin/esplab.js");
const children: ChildProcess[] = [];
let dir: string | undefined;
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Starts a long-running esplab command and resolves with what it printed once `ready` matches. */
function start(args: string[], ready: RegExp): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  return new Promise((resolve, reject) => {
    const check = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) resolve({ child, output: () => output });
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    child.once("exit", (code) => reject(new Error(`esplab ${args[0]} exited with ${code}: ${output}`)));
  });
}

describe("esplab broker, readings subscribe and readings export", () => {
  it("store what devices publish and export it as CSV", async () => {
    dir = mkdtempSync(path.join(tmpdir(), "esplab-readings-cli-"));
    const db = path.join(dir, "readings.sqlite");
    const broker = await start(["broker", "--port", "0"], /MQTT broker on mqtt:\/\/127\.0\.0\.1:\d+/);
    const url = /mqtt:\/\/127\.0\.0\.1:\d+/.exec(broker.output())![0];
    const subscriber = await start(["readings", "subscribe", "--broker", url, "--db", db], /subscribed to sensor\/#/);

    const device = new MqttClient({ transport: new NodeTransport(), clock: new SystemClock(), target: { host: "127.0.0.1", port: Number(url.split(":").pop()) }, clientId: "Device001" });
    await device.connect();
    await device.publish("sensor/Device001", '{"temp":21.5,"seq":1}', { qos: 1 });
    await device.publish("sensor/Device001", '{"temp":22,"seq":2,"note":"a, b"}', { qos: 1 });
    await device.publish("sensor/Device001", '{"temp":22,"seq":2}', { qos: 1 });
    await device.publish("sensor/Device001", "hello", { qos: 1 });
    device.close();
    for (let i = 0; i < 200 && !subscriber.output().includes("rejected sensor/Device001"); i++) await new Promise((r) => setTimeout(r, 25));
    expect(subscriber.output()).toMatch(/Device001 #2 \(duplicate, kept once\)/);
    subscriber.child.kill("SIGTERM");
    await new Promise((resolve) => subscriber.child.once("exit", resolve));
    expect(subscriber.output()).toMatch(/stopped: 2 readings stored, 1 duplicates ignored/);

    const csv = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [cli, "readings", "export", "--db", db, "--device", "Device001"], { cwd: root }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
    );
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe("device,seq,ts,received_at,note,temp");
    expect(lines[1]).toMatch(/^Device001,1,,\d{4}-[^,]+,,21\.5$/);
    expect(lines[2]).toMatch(/^Device001,2,,[^,]+,"a, b",22$/);
  });

  it("refuses a half-given login and a bad date, saying how to fix it", async () => {
    const run = (...args: string[]) =>
      new Promise<string>((resolve) => execFile(process.execPath, [cli, ...args], { cwd: root }, (_error, _stdout, stderr) => resolve(stderr)));
    expect(await run("broker", "--username", "u")).toMatch(/give both --username and --password/);
    dir = mkdtempSync(path.join(tmpdir(), "esplab-readings-cli-"));
    expect(await run("readings", "export", "--db", path.join(dir, "x.sqlite"), "--since", "yesterday")).toMatch(/--since yesterday is not a date/);
  });
});
