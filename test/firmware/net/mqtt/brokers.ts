/** Real brokers for client tests: aedes in-process and mosquitto as a child process, both on 127.0.0.1. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Aedes } from "aedes";

export interface TestBroker {
  port: number;
  aedes: Aedes;
  close(): Promise<void>;
}

type AedesSetup = (aedes: Aedes) => void;

/** aedes on 127.0.0.1 (port 0 = a free one). `setup` installs hooks such as authenticate/authorizeSubscribe. */
export async function startAedes(options: { port?: number; setup?: AedesSetup } = {}): Promise<TestBroker> {
  const aedes = await Aedes.createBroker();
  options.setup?.(aedes);
  const server = net.createServer(aedes.handle);
  const sockets = new Set<net.Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });
  let closed = false;
  return {
    port,
    aedes,
    async close() {
      if (closed) return;
      closed = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function mosquittoPath(): string | undefined {
  const found = spawnSync("sh", ["-c", "command -v mosquitto || ls /usr/sbin/mosquitto 2>/dev/null"], { encoding: "utf8" });
  const line = found.stdout.trim().split("\n")[0];
  return line ? line : undefined;
}

export interface Mosquitto {
  port: number;
  close(): Promise<void>;
}

/**
 * mosquitto bound to 127.0.0.1 on a free port with a temporary config (anonymous). `persistence` keeps sessions and
 * queued messages in a file in its temporary directory, saved every second, as a Debian install does.
 */
export async function startMosquitto(binary: string, options: { persistence?: boolean } = {}): Promise<Mosquitto> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-mosquitto-"));
  const config = path.join(dir, "mosquitto.conf");
  // As root, mosquitto switches to the user "mosquitto", which cannot write this root-owned directory, and then
  // silently keeps no session: `user root` keeps persistence working.
  const user = process.getuid?.() === 0 ? "user root\n" : "";
  const persistence = options.persistence ? `persistence true\npersistence_location ${dir}/\nautosave_interval 1\n${user}` : "persistence false\n";
  fs.writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\n${persistence}max_inflight_messages 0\n`);
  const child: ChildProcess = spawn(binary, ["-c", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const deadline = Date.now() + 5000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`mosquitto did not start on ${port}: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `condition` on real time (for tests against real sockets). */
export async function waitFor(condition: () => boolean, what: string, limitMs = 5000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
