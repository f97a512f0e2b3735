import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createAwsIotClient } from "../../../firmware/net/aws/iot-core.ts";
import type { MqttClient } from "../../../firmware/net/mqtt/client.ts";
import { NodeTransport } from "../../../host-tools/platform/node-transport.ts";
import { SystemClock } from "../../../host-tools/platform/system-clock.ts";
import { ESPLAB_CLI, ESPLAB_ROOT, esplab } from "../../support/esplab-cli.ts";
import { until } from "../../support/until.ts";

const root = ESPLAB_ROOT;
const cli = ESPLAB_CLI;
const children: ChildProcess[] = [];
const clients: MqttClient[] = [];
let dir: string | undefined;
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  for (const child of children.splice(0)) child.kill("SIGKILL");
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("esplab iot", () => {
  it("start, create-thing, create-job through a running server, jobs, revoke — and clear refusals", async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-iot-cli-"));
    const server = spawn(process.execPath, [cli, "iot", "start", "--port", "0", "--data", dir], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    children.push(server);
    let output = "";
    server.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    server.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await until(() => /local AWS IoT Core at 127\.0\.0\.1:\d+/.test(output), "the IoT Core to start", 20_000);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(output)![1]);

    const created = await esplab("iot", "create-thing", "lab-thing", "--data", dir);
    expect(created.code).toBe(0);
    expect(created.output).toMatch(/thing lab-thing registered; certificate [0-9a-f]{64} is ACTIVE/);
    const thingDir = path.join(dir, "things/lab-thing");
    expect(fs.readdirSync(thingDir).sort()).toEqual(["certificate.pem.crt", "esplab.config.json", "private.pem.key", "public.pem.key", "root-CA.pem"]);
    expect(fs.statSync(path.join(thingDir, "private.pem.key")).mode & 0o077).toBe(0);
    const config = JSON.parse(fs.readFileSync(path.join(thingDir, "esplab.config.json"), "utf8"));
    expect(config).toMatchObject({ app: "telemetry", device_id: "lab-thing", mqtt_profile: "aws", aws_endpoint: "127.0.0.1", aws_port: 8883 });

    // the running server admits the thing registered by another process
    const profile = { endpoint: config.aws_endpoint, port, thingName: "lab-thing", certificate: config.aws_certificate, privateKey: config.aws_private_key, rootCa: config.aws_root_ca };
    const client = createAwsIotClient(profile, { transport: new NodeTransport(), clock: new SystemClock() }, { reconnect: false });
    clients.push(client);
    await client.connect();
    const next: string[] = [];
    await client.subscribe("$aws/things/lab-thing/jobs/notify-next", (message) => next.push(new TextDecoder().decode(message.payload)), { qos: 1 });
    fs.writeFileSync(path.join(dir, "slower.json"), '{"operation":"set-interval","interval_ms":5000}');
    expect((await esplab("iot", "create-job", "slower-1", "--thing", "lab-thing", "--document", path.join(dir, "slower.json"), "--data", dir)).code).toBe(0);
    await until(() => next.length === 1, "notify-next from the running server", 10_000);
    expect(JSON.parse(next[0]!)).toMatchObject({ execution: { jobId: "slower-1", status: "QUEUED", jobDocument: { interval_ms: 5000 } } });
    expect((await esplab("iot", "jobs", "--data", dir)).output).toMatch(/slower-1 {2}IN_PROGRESS {2}lab-thing QUEUED/);

    expect((await esplab("iot", "revoke", "lab-thing", "--data", dir)).output).toMatch(/lab-thing: certificate [0-9a-f]{12}… is REVOKED/);
    client.close();
    const again = createAwsIotClient(profile, { transport: new NodeTransport(), clock: new SystemClock() }, { reconnect: false });
    clients.push(again);
    await expect(again.connect()).rejects.toBeDefined();
    await until(() => /refused a TLS connection .*lab-thing is REVOKED/.test(output), "the refusal in the server's output", 5000);

    // mistakes: one line naming the problem and the fix, no stack trace
    for (const [args, message] of [
      [["iot", "create-thing", "--data", dir], /needs a thing name/],
      [["iot", "create-thing", "lab-thing", "--data", dir], /already registered; give another name, or remove it first with: esplab iot delete-thing lab-thing/],
      [["iot", "create-job", "j2", "--thing", "ghost", "--document", path.join(dir, "slower.json"), "--data", dir], /no thing ghost/],
      [["iot", "start", "--port", "99999", "--data", dir], /--port must be 0–65535/],
    ] as const) {
      const result = await esplab(...args);
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(message);
      expect(result.output).not.toMatch(/\n\s+at /);
    }
  }, 90_000);
});
