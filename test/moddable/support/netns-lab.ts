// Runs inside a private network namespace (it owns 127.0.0.1:53 there): the local cloud behind TLS, a mutual-TLS
// MQTT listener, a DNS server, and the Moddable app under test. Commands arrive as JSON lines on stdin; each answer
// is a JSON line on stdout. Started by device-layer.test.ts.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import readline from "node:readline";
import tls from "node:tls";
import { startLocalCloud } from "../../../host-tools/cloud/index.ts";
import { runLinuxApp, type LinuxApp } from "../../../host-tools/moddable/linux-host.ts";
import { startDnsServer } from "../../support/dns-server.ts";

export interface LabSetup {
  app: LinuxApp;
  certs: string;
  state: string;
  records: Record<string, string>;
}

export interface LabReady {
  ready: true;
  databasePort: number;
  authPort: number;
  mqttPort: number;
  closedPort: number;
  echoPort: number;
  tls13OnlyPort: number;
  silentPort: number;
  namespace: string;
  user: { email: string; password: string };
}

export type LabCommand = { id: number; run: string[]; timeoutMs: number } | { id: number; get: string } | { id: number; close: true };

const setup = JSON.parse(process.argv[2]!) as LabSetup;
const read = (name: string) => fs.readFileSync(path.join(setup.certs, name), "utf8");
const chain = read("server.pem") + read("ca.pem");
const serverKey = read("server.key");

const cloud = await startLocalCloud({ databasePort: 0, authPort: 0, mqttPort: 0, log: () => undefined });
const portOf = (url: string) => Number(new URL(url).port);

/** TLS in front of a plain TCP port on 127.0.0.1, sending the leaf and the CA as real servers do. */
function tlsFront(backend: number, extra: tls.TlsOptions = {}): Promise<tls.Server> {
  const server = tls.createServer({ key: serverKey, cert: chain, minVersion: "TLSv1.2", ...extra }, (socket) => {
    const upstream = net.connect(backend, "127.0.0.1");
    socket.pipe(upstream).pipe(socket);
    socket.on("error", () => upstream.destroy());
    upstream.on("error", () => socket.destroy());
  });
  server.on("tlsClientError", () => undefined);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const database = await tlsFront(portOf(cloud.firebase.databaseUrl));
const auth = await tlsFront(portOf(cloud.firebase.authUrl));
const mqtt = await tlsFront(cloud.mqtt.port, { requestCert: true, rejectUnauthorized: true, ca: read("ca.pem") });
const dns = await startDnsServer({ host: "127.0.0.1", port: 53, records: setup.records });
const tls13Only = await tlsFront(portOf(cloud.firebase.databaseUrl), { minVersion: "TLSv1.3" });
// Accepts and never answers: a TLS handshake to it can only time out.
const silent = net.createServer(() => undefined);
await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()));
const echo = net.createServer((socket) => socket.pipe(socket));
await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", () => resolve()));
const closed = net.createServer();
const closedPort = await new Promise<number>((resolve) => closed.listen(0, "127.0.0.1", () => resolve((closed.address() as net.AddressInfo).port)));
await new Promise((resolve) => closed.close(resolve));

const port = (server: tls.Server) => (server.address() as net.AddressInfo).port;
const send = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`);
send({ ready: true, databasePort: port(database), authPort: port(auth), mqttPort: port(mqtt), closedPort, echoPort: (echo.address() as net.AddressInfo).port, tls13OnlyPort: port(tls13Only), silentPort: (silent.address() as net.AddressInfo).port, namespace: cloud.namespace, user: cloud.demoUser } satisfies LabReady);

async function close() {
  for (const server of [database, auth, mqtt, echo, tls13Only, silent]) server.close();
  await dns.close();
  await cloud.close();
}

for await (const line of readline.createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as LabCommand;
  if ("close" in command) break;
  if ("get" in command) {
    send({ id: command.id, value: cloud.firebase.database.store(cloud.namespace).get(command.get.split("/").filter(Boolean)) });
    continue;
  }
  const result = await runLinuxApp(setup.app, { args: command.run, timeoutMs: command.timeoutMs, cwd: setup.state });
  send({ id: command.id, result, dnsQueries: dns.queries.splice(0) });
}
await close();
process.exit(0);
