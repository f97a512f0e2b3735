/**
 * `esplab cloud service-account`: the key file it writes is Google's format and works on the device's credential
 * against `esplab cloud` (a child process), including a key made while the cloud runs; each mistake gets one line
 * naming the fix.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Database } from "../../../firmware/net/firebase/rtdb.ts";
import { ServiceAccountCredential } from "../../../firmware/net/firebase/service-account.ts";
import { HttpClient } from "../../../firmware/net/http/client.ts";
import { NodeTransport } from "../../../host-tools/platform/node-transport.ts";
import { SystemClock } from "../../../host-tools/platform/system-clock.ts";
import { ESPLAB_CLI, ESPLAB_ROOT, esplab } from "../../support/esplab-cli.ts";
import { until } from "../../support/until.ts";

const root = ESPLAB_ROOT;
const cli = ESPLAB_CLI;
const children: ChildProcess[] = [];
const clients: HttpClient[] = [];
let dir: string | undefined;
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  for (const child of children.splice(0)) child.kill("SIGKILL");
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("esplab cloud service-account", () => {
  it("writes a Google-format key file that the device's credential uses against a running esplab cloud", async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-sa-cli-"));
    const created = await esplab("cloud", "service-account", "create", "lab-device", "--data", dir);
    expect(created.code, created.output).toBe(0);
    expect(created.output).toMatch(/service account lab-device@demo-esplab\.iam\.gserviceaccount\.com: key [0-9a-f]{12}… written to .*service-accounts\/lab-device\.json/);
    const file = path.join(dir, "service-accounts", "lab-device.json");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const key = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string>;
    expect(Object.keys(key).sort()).toEqual(
      ["auth_provider_x509_cert_url", "auth_uri", "client_email", "client_id", "client_x509_cert_url", "private_key", "private_key_id", "project_id", "token_uri", "type", "universe_domain"].sort(),
    );
    expect(key).toMatchObject({ type: "service_account", project_id: "demo-esplab", token_uri: "http://127.0.0.1:9099/token", private_key: expect.stringMatching(/^-----BEGIN PRIVATE KEY-----\n/) });

    const server = spawn(process.execPath, [cli, "cloud", "--database-port", "0", "--auth-port", "0", "--mqtt-port", "0", "--data", dir], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    children.push(server);
    let output = "";
    server.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    server.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await until(() => output.includes("Ctrl-C"), "esplab cloud to start", 30_000);
    expect(output).toMatch(/OAuth token +http:\/\/127\.0\.0\.1:\d+\/token +\(1 service account\(s\)/);
    const databaseUrl = /Realtime Database +(http:\/\/127\.0\.0\.1:\d+)/.exec(output)![1]!;
    const authHost = /FIREBASE_AUTH_EMULATOR_HOST=(127\.0\.0\.1:\d+)/.exec(output)![1]!;

    const clock = new SystemClock();
    const use = async (keyFile: string) => {
      const http = new HttpClient({ transport: new NodeTransport(), clock });
      clients.push(http);
      const credential = new ServiceAccountCredential({ key: fs.readFileSync(keyFile, "utf8"), http, clock, emulatorHost: authHost });
      const db = new Database({ databaseUrl: `${databaseUrl}?ns=cli`, http, clock, auth: credential });
      await db.set(`by/${credential.clientEmail.split("@")[0]}`, true);
      return db;
    };
    const db = await use(file);
    // A key made while the cloud runs is taken at once.
    const second = await esplab("cloud", "service-account", "create", "second-device", "--data", dir, "--out", path.join(dir, "second.json"));
    expect(second.code, second.output).toBe(0);
    await use(path.join(dir, "second.json"));
    expect(await db.get("by")).toEqual({ "lab-device": true, "second-device": true });

    expect((await esplab("cloud", "service-account", "list", "--data", dir)).output).toMatch(/lab-device@demo-esplab\.iam\.gserviceaccount\.com +1 key\(s\)[\s\S]*second-device@/);
    expect((await esplab("cloud", "service-account", "delete", "second-device", "--data", dir)).code).toBe(0);
    await expect(use(path.join(dir, "second.json"))).rejects.toThrow(/no service account second-device@demo-esplab\.iam\.gserviceaccount\.com exists/);
  }, 90_000);

  it.each([
    [["create", "Bad_Name"], /"Bad_Name" is not a service account name: use 6–30 lowercase letters/],
    [["create"], /needs a NAME/],
    [["delete", "nobody-here"], /no service account "nobody-here" in .*: see npx esplab cloud service-account list/],
    [["rotate", "x"], /unknown action "rotate"/],
  ])("refuses %j with one line naming the fix", async (args, message) => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-sa-cli-"));
    const result = await esplab("cloud", "service-account", ...args, "--data", dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(message);
    expect(result.output).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("refuses to overwrite a key file", async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-sa-cli-"));
    expect((await esplab("cloud", "service-account", "create", "lab-device", "--data", dir)).code).toBe(0);
    const again = await esplab("cloud", "service-account", "create", "lab-device", "--data", dir);
    expect(again.code).not.toBe(0);
    expect(again.output).toMatch(/lab-device\.json already exists: give --out FILE for the new key/);
  });
});
