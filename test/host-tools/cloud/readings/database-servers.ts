/**
 * Real PostgreSQL and InfluxDB servers for the readings-store tests, from the Debian packages (postgresql,
 * influxdb): each in a temporary directory, on 127.0.0.1 and a free port, stopped and removed when the test ends.
 * Either may be stopped and started again on the same port, to test a store that goes down.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort } from "../../../firmware/net/mqtt/brokers.ts";

export interface DatabaseServer {
  /** What --db takes: postgres://… or influx://… */
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The directory of PostgreSQL's server programs (initdb, postgres), the newest version installed. */
export function postgresBinaries(): string | undefined {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, "bin", "initdb"))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length) return path.join(root, versions[0]!, "bin");
  const found = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" }).stdout.trim();
  return found ? path.dirname(found) : undefined;
}

export function influxdPath(): string | undefined {
  const found = spawnSync("sh", ["-c", "command -v influxd"], { encoding: "utf8" }).stdout.trim();
  return found || undefined;
}

/**
 * PostgreSQL refuses to run as root: as root, the server runs as "nobody" in a directory it owns. setpriv execs the
 * program itself (runuser would stay in between and keep the signals that stop the server from reaching it).
 */
function asServerUser(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ["setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", command, ...args]] : [command, args];
}

async function waitFor(what: string, ready: () => Promise<boolean>, log: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not start within ${timeoutMs / 1000} s:\n${log()}`);
}

function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill(signal);
  });
}

export async function startPostgres(bin: string): Promise<DatabaseServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-postgres-"));
  const data = path.join(dir, "data");
  if (process.getuid?.() === 0) spawnSync("chown", ["nobody", dir]);
  const [initdb, initArgs] = asServerUser(path.join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "esplab", "-E", "UTF8", "--locale=C", "--no-sync"]);
  const init = spawnSync(initdb, initArgs, { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  let child: ChildProcess | undefined;
  let log = "";
  const admin = { host: "127.0.0.1", port, user: "esplab", database: "postgres" };
  const start = async () => {
    const [postgres, args] = asServerUser(path.join(bin, "postgres"), ["-D", data, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${dir}`]);
    child = spawn(postgres, args, { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr!.on("data", (chunk) => (log = (log + chunk).slice(-4000)));
    await waitFor("PostgreSQL", async () => {
      const client = new pg.Client(admin);
      try {
        await client.connect();
        return true;
      } finally {
        await client.end().catch(() => undefined);
      }
    }, () => log);
  };
  await start();
  const client = new pg.Client(admin);
  await client.connect();
  await client.query("CREATE DATABASE readings");
  await client.end();
  const stop = () => stopChild(child, "SIGINT"); // fast shutdown: open sessions are ended, committed work is kept
  return {
    url: `postgres://esplab@127.0.0.1:${port}/readings`,
    start,
    stop,
    async close() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startInflux(binary: string): Promise<DatabaseServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-influx-"));
  const [port, rpcPort] = [await freePort(), await freePort()];
  const config = path.join(dir, "influxdb.conf");
  fs.writeFileSync(
    config,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  wal-fsync-delay = "0s"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
`,
  );
  let child: ChildProcess | undefined;
  let log = "";
  const start = async () => {
    child = spawn(binary, ["-config", config], { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr!.on("data", (chunk) => (log = (log + chunk).slice(-4000)));
    await waitFor("InfluxDB", async () => (await fetch(`http://127.0.0.1:${port}/ping`)).status === 204, () => log);
  };
  await start();
  const stop = () => stopChild(child, "SIGTERM");
  return {
    url: `influx://127.0.0.1:${port}/readings`,
    start,
    stop,
    async close() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
