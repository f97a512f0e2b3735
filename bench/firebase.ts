/**
 * 1. Bytes on the wire per reading write for the device's RTDB client, next to Node's fetch (undici) sending the same
 *    request, on loopback against a small REST endpoint that answers like Firebase (body echo, or 204 for
 *    print=silent). Counts application bytes on the TCP connection (request + response) after it is open; TLS adds
 *    its record overhead on top of both.
 * 2. When esplab's emulator is present (host-tools/cloud/firebase), N simulated devices (default 1, 100, 500) each
 *    write one reading a second and stream their own path: write→event latency p50/p99 and the emulator's CPU (it
 *    runs in a child process so its CPU is its own).
 *
 *   npx tsx bench/firebase.ts [--devices 1,100,500] [--seconds 10]
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Database } from "../firmware/net/firebase/rtdb.ts";
import type { TokenSource } from "../firmware/net/firebase/auth.ts";
import { serverTimestamp } from "../firmware/net/firebase/values.ts";
import type { Change } from "../firmware/net/firebase/stream.ts";
import { HttpClient } from "../firmware/net/http/client.ts";
import { NodeTransport } from "../host-tools/platform/node-transport.ts";
import { SystemClock } from "../host-tools/platform/system-clock.ts";

const WRITES = 500;
const { values: args } = parseArgs({ options: { devices: { type: "string", default: "1,100,500" }, seconds: { type: "string", default: "10" } } });

/** An ID token shaped like Firebase's: RS256 header with a key id, the claims Firebase puts in, a 2048-bit signature. */
function firebaseShapedIdToken(): string {
  const b64 = (value: object | Buffer) => (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: "RS256", kid: createHash("sha1").update("kid").digest("hex"), typ: "JWT" };
  const payload = {
    iss: "https://securetoken.google.com/esplab-demo",
    aud: "esplab-demo",
    auth_time: now,
    user_id: "Xq3b9ZpV0hNfK2mL7sT4uW1yA8c2",
    sub: "Xq3b9ZpV0hNfK2mL7sT4uW1yA8c2",
    iat: now,
    exp: now + 3600,
    email: "device001@example.com",
    email_verified: false,
    firebase: { identities: { email: ["device001@example.com"] }, sign_in_provider: "password" },
  };
  return `${b64(header)}.${b64(payload)}.${b64(randomBytes(256))}`;
}

interface Counted {
  sent: number;
  received: number;
}

async function startServer(): Promise<{ port: number; sockets: Set<Socket>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const silent = (req.url ?? "").includes("print=silent");
      if (silent) {
        res.writeHead(204).end();
        return;
      }
      const answer = req.method === "POST" ? JSON.stringify({ name: "-NxAbCdEfGhIjKlMnOpQ" }) : body;
      res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(answer) }).end(answer);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on("connection", (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function totals(sockets: Set<Socket>): Counted {
  let sent = 0;
  let received = 0;
  for (const socket of sockets) {
    received += socket.bytesRead; // what the client sent
    sent += socket.bytesWritten;
  }
  return { sent: received, received: sent };
}

async function measure(name: string, run: (port: number, i: number) => Promise<void>): Promise<void> {
  const server = await startServer();
  await run(server.port, -1); // warm-up: opens the kept-alive connection
  const before = totals(server.sockets);
  const started = performance.now();
  for (let i = 0; i < WRITES; i++) await run(server.port, i);
  const elapsed = performance.now() - started;
  const after = totals(server.sockets);
  const up = (after.sent - before.sent) / WRITES;
  const down = (after.received - before.received) / WRITES;
  console.log(
    `${name.padEnd(44)} ${up.toFixed(0).padStart(6)} B up ${down.toFixed(0).padStart(5)} B down ${(up + down).toFixed(0).padStart(6)} B total ` +
      `${((elapsed * 1000) / WRITES).toFixed(0).padStart(5)} µs/write  connections ${server.sockets.size}`,
  );
  await server.close();
}

const idToken = firebaseShapedIdToken();
const tokens: TokenSource = { getIdToken: async () => idToken, invalidate: () => {} };
const reading = (i: number) => ({ celsius: 21.5 + (i % 10) / 10, humidity: 40 + (i % 7), at: serverTimestamp() });

console.log(`${WRITES} writes of one reading ${JSON.stringify(reading(0))} per variant; ID token ${idToken.length} chars\n`);

for (const withAuth of [false, true]) {
  const label = withAuth ? "with ?auth=<ID token>" : "no auth";
  const clock = new SystemClock();
  const makeDb = (port: number) =>
    new Database({
      databaseUrl: `http://127.0.0.1:${port}?ns=esplab-demo-default-rtdb`,
      http: new HttpClient({ transport: new NodeTransport(), clock }),
      clock,
      auth: withAuth ? tokens : undefined,
    });
  let db: Database | undefined;
  let dbPort = 0;
  const esplab = (silent: boolean) => async (port: number, i: number) => {
    if (!db || dbPort !== port) {
      db?.http.close();
      db = makeDb(port);
      dbPort = port;
    }
    await db.set(`devices/Device001/readings/r${i + 1}`, reading(i), { silent });
  };
  const esplabPush = async (port: number, i: number) => {
    if (!db || dbPort !== port) {
      db?.http.close();
      db = makeDb(port);
      dbPort = port;
    }
    await db.push("devices/Device001/readings", reading(i));
  };
  const viaFetch = (silent: boolean) => async (port: number, i: number) => {
    const query = new URLSearchParams({ ns: "esplab-demo-default-rtdb" });
    if (withAuth) query.set("auth", idToken);
    if (silent) query.set("print", "silent");
    const response = await fetch(`http://127.0.0.1:${port}/devices/Device001/readings/r${i + 1}.json?${query}`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(reading(i)),
    });
    await response.arrayBuffer();
  };
  await measure(`esplab set, ${label}`, esplab(false));
  await measure(`esplab set print=silent, ${label}`, esplab(true));
  await measure(`esplab push, ${label}`, esplabPush);
  await measure(`node fetch PUT, ${label}`, viaFetch(false));
  await measure(`node fetch PUT print=silent, ${label}`, viaFetch(true));
  db?.http.close();
  console.log("");
}

// ---- 2. many devices against the emulator ----

const EMULATOR = ["index.ts", "emulator.ts"].map((f) => path.resolve(import.meta.dirname, "../host-tools/cloud/firebase", f)).find((f) => fs.existsSync(f));

interface EmulatorChild {
  databaseUrl: string;
  cpuMs(): Promise<number>;
  stop(): void;
}

/** Starts the emulator in its own Node process; it reports its address, then its CPU time whenever asked. */
async function startEmulatorChild(file: string): Promise<EmulatorChild> {
  const code = `
    import { startFirebaseEmulator } from ${JSON.stringify(file)};
    const emulator = await startFirebaseEmulator({ databasePort: 0, authPort: 0 });
    console.log(JSON.stringify({ databaseUrl: emulator.databaseUrl }));
    process.stdin.on("data", () => { const u = process.cpuUsage(); console.log(JSON.stringify({ cpuMs: (u.user + u.system) / 1000 })); });
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { stdio: ["pipe", "pipe", "inherit"] });
  const waiters: Array<(line: Record<string, unknown>) => void> = [];
  let buffer = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.startsWith("{")) waiters.shift()?.(JSON.parse(line));
    }
  });
  const next = () => new Promise<Record<string, unknown>>((resolve) => waiters.push(resolve));
  const first = await next();
  return {
    databaseUrl: String(first.databaseUrl),
    async cpuMs() {
      const reply = next();
      child.stdin.write("\n");
      return Number((await reply).cpuMs);
    },
    stop: () => child.kill(),
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function devicesRun(emulator: EmulatorChild, count: number, seconds: number): Promise<void> {
  const clock = new SystemClock();
  const url = emulator.databaseUrl.includes("ns=") ? emulator.databaseUrl : `${emulator.databaseUrl.replace(/\/+$/, "")}?ns=bench`;
  const latencies: number[] = [];
  const sentAt = new Map<string, number>();
  const devices = Array.from({ length: count }, (_, i) => {
    const db = new Database({ databaseUrl: url, http: new HttpClient({ transport: new NodeTransport(), clock }), clock, accessToken: "owner" });
    const id = `d${count}-${i}`;
    const stream = db.listen(`bench/${id}`, {
      onChange: (changes: Change[]) => {
        for (const change of changes) {
          const seq = (change.value as { seq?: number } | null)?.seq ?? (change.path === "/reading/seq" ? change.value : undefined);
          const sent = sentAt.get(`${id}:${seq}`);
          if (sent !== undefined) {
            latencies.push(performance.now() - sent);
            sentAt.delete(`${id}:${seq}`);
          }
        }
      },
    });
    return { id, db, stream };
  });
  const until = Date.now() + 20_000;
  while (devices.some((d) => d.stream.status !== "live") && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  const live = devices.filter((d) => d.stream.status === "live").length;
  const cpuBefore = await emulator.cpuMs();
  const started = performance.now();
  let failures = 0;
  let writes = 0;
  for (let second = 0; second < seconds; second++) {
    const tick = performance.now();
    await Promise.all(
      devices.map(async (device, i) => {
        await new Promise((r) => setTimeout(r, (i / count) * 1000)); // spread the writes over the second
        const seq = second;
        sentAt.set(`${device.id}:${seq}`, performance.now());
        try {
          await device.db.set(`bench/${device.id}/reading`, { seq, celsius: 21.5 }, { silent: true });
          writes++;
        } catch {
          failures++;
        }
      }),
    );
    const spent = performance.now() - tick;
    if (spent < 1000) await new Promise((r) => setTimeout(r, 1000 - spent));
  }
  await new Promise((r) => setTimeout(r, 500));
  const wall = performance.now() - started;
  const cpu = (await emulator.cpuMs()) - cpuBefore;
  for (const device of devices) {
    device.stream.close();
    device.db.http.close();
  }
  latencies.sort((a, b) => a - b);
  console.log(
    `${String(count).padStart(4)} devices (${live} streams live): ${writes} writes, ${failures} failed, ${latencies.length} events; ` +
      `write→event p50 ${percentile(latencies, 50).toFixed(1)} ms p99 ${percentile(latencies, 99).toFixed(1)} ms; ` +
      `emulator CPU ${((cpu / wall) * 100).toFixed(0)}% of one core`,
  );
}

if (!EMULATOR) {
  console.log("write→event latency: skipped, host-tools/cloud/firebase is not there yet");
} else {
  const emulator = await startEmulatorChild(EMULATOR);
  try {
    console.log(`write→event latency, each device writing 1 reading/s for ${args.seconds} s and streaming its own path:`);
    for (const count of args.devices!.split(",").map(Number)) await devicesRun(emulator, count, Number(args.seconds));
  } finally {
    emulator.stop();
  }
}
