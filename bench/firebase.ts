/**
 * Bytes on the wire per reading write for the device's RTDB client, next to Node's fetch (undici) sending the same
 * request, on loopback against a small REST endpoint that answers like Firebase (body echo, or 204 for print=silent).
 * Counts application bytes on the TCP connection (request + response), after the connection is open; TLS would add
 * its record overhead (~29 bytes per record with AES-GCM) on top of both.
 *
 *   npx tsx bench/firebase.ts
 */
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Database } from "../firmware/net/firebase/rtdb.ts";
import type { TokenSource } from "../firmware/net/firebase/auth.ts";
import { serverTimestamp } from "../firmware/net/firebase/values.ts";
import { HttpClient } from "../firmware/net/http/client.ts";
import { NodeTransport } from "../host-tools/platform/node-transport.ts";
import { SystemClock } from "../host-tools/platform/system-clock.ts";

const WRITES = 500;

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
