/**
 * The Firebase emulator's storage measured from outside: an emulator in a child process on a data directory, timed
 * over HTTP. Shared by bench/firebase-store.ts (which sets it beside the store it replaced) and bench/class-scale.ts.
 *   putCost       median PUT latency of sequential small writes into a tree of a given size
 *   restartCost   start on a data directory, then one GET; the median of three
 *   throughput    acknowledged writes a second from `clients` clients, each writing as soon as the last is answered
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import type { JsonValue } from "../../firmware/net/firebase/ordering.ts";

export const NS = "bench";
export const LOG_RECORDS = 2000;
/** Which emulator: this tree's, or a peer commit's as git has it. */
export type Which = "new" | "old";

/** `nodes` leaves as a class's readings pile up: /readings/d<device>/r<n> = {cm, at} (two leaves a reading). */
export function readingsTree(nodes: number): JsonValue {
  if (nodes === 0) return null;
  const readings: Record<string, Record<string, JsonValue>> = {};
  for (let i = 0; i < nodes / 2; i++) {
    const device = `d${i % 1000}`;
    (readings[device] ??= {})[`r${i}`] = { cm: i % 200, at: 1_700_000_000_000 + i };
  }
  return { readings };
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Emulator {
  child: ChildProcess;
  url: string;
}

/** `scratch`: a temporary folder this owns the contents of; `peer`: the commit "old" runs; `seconds`: throughput's. */
export function storageBench(options: { scratch: string; seconds: number; peer?: string }) {
  const repo = path.resolve(import.meta.dirname, "../..");
  const { scratch, seconds } = options;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });

  function emulatorMain(which: Which): string {
    if (which === "new") return path.join(repo, "host-tools/cloud/firebase/main.ts");
    if (!options.peer) throw new Error("storageBench: no peer commit given for the old emulator");
    const dir = path.join(scratch, "peer");
    if (!fs.existsSync(dir)) {
      fs.mkdirSync(dir);
      const tar = execFileSync("git", ["-C", repo, "archive", options.peer, "firmware", "host-tools/cloud/firebase"], { maxBuffer: 1 << 28 });
      execFileSync("tar", ["-x", "-C", dir], { input: tar });
      fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" })); // ES modules, as in this repository
    }
    return path.join(dir, "host-tools/cloud/firebase/main.ts");
  }

  /** Starts an emulator in a child process (`dataDir` undefined: memory only); resolves when it listens. */
  function start(which: Which, dataDir: string | undefined): Promise<Emulator> {
    const child = spawn(process.execPath, ["--import", "tsx", emulatorMain(which), ...(dataDir ? [dataDir] : [])], { cwd: repo, stdio: ["ignore", "pipe", "inherit"] });
    return new Promise((resolve, reject) => {
      child.stdout!.once("data", (line: Buffer) => resolve({ child, url: (JSON.parse(line.toString().split("\n")[0]!) as { databaseUrl: string }).databaseUrl }));
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`emulator exited with ${code}`)));
    });
  }

  async function stop(emulator: Emulator): Promise<void> {
    const exited = new Promise((resolve) => emulator.child.once("exit", resolve));
    emulator.child.kill("SIGKILL");
    await exited;
  }

  function request(url: string, method: string, body?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method, agent, headers: { Authorization: "Bearer owner", "content-type": "application/json" } }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end(body);
    });
  }

  return {
    readingsTree,
    emptyDataDir: () => fs.mkdtempSync(path.join(scratch, "empty-")),

    /** A data directory with a snapshot of `root` and, with `withLog`, a log of LOG_RECORDS records after it. */
    makeDataDir(nodes: number, root: JsonValue, withLog: boolean): string {
      const dir = fs.mkdtempSync(path.join(scratch, `data-${nodes}-`));
      if (root !== null) fs.writeFileSync(path.join(dir, `${NS}.snapshot.json`), JSON.stringify({ root, rules: { rules: { ".read": true, ".write": true } } }));
      let log = "";
      for (let i = 0; i < (withLog ? LOG_RECORDS : 0); i++) log += `${JSON.stringify({ set: ["readings", `d${i % 1000}`, `log${i}`], value: { cm: i % 200, at: i } })}\n`;
      fs.writeFileSync(path.join(dir, `${NS}.log`), log);
      return dir;
    },

    /** Restart: start on the data directory, then one GET; the median of three. */
    async restartCost(which: Which, dataDir: string): Promise<number> {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const copy = fs.mkdtempSync(path.join(scratch, "restart-"));
        fs.cpSync(dataDir, copy, { recursive: true });
        const started = performance.now();
        const emulator = await start(which, copy);
        if ((await request(`${emulator.url}/readings/d0/log0.json?ns=${NS}`, "GET")) !== 200) throw new Error("restart: GET failed");
        times.push(performance.now() - started);
        await stop(emulator);
        fs.rmSync(copy, { recursive: true, force: true });
      }
      return median(times);
    },

    /** Median PUT latency of sequential small writes into a tree of that size. */
    async putCost(which: Which, dataDir: string, writes: number): Promise<number> {
      const emulator = await start(which, dataDir);
      await request(`${emulator.url}/readings/d0/log0.json?ns=${NS}`, "GET"); // the old store loads on first use
      const times: number[] = [];
      for (let i = 0; i < writes; i++) {
        const started = performance.now();
        if ((await request(`${emulator.url}/readings/d7/put${i}.json?ns=${NS}`, "PUT", JSON.stringify({ cm: 12, at: i }))) !== 200) throw new Error("PUT failed");
        times.push(performance.now() - started);
      }
      await stop(emulator);
      return median(times);
    },

    /** Acknowledged writes a second from `clients` clients, each writing its next reading as soon as the last is answered. */
    async throughput(which: Which, durable: boolean, clients: number): Promise<number> {
      const dataDir = durable ? fs.mkdtempSync(path.join(scratch, "tput-")) : undefined;
      const emulator = await start(which, dataDir);
      let acked = 0;
      // A second of warm-up first (connections opened, code compiled), not counted.
      const counting = performance.now() + 1000;
      const until = counting + seconds * 1000;
      await Promise.all(
        Array.from({ length: clients }, async (_, c) => {
          for (let n = 0; performance.now() < until; n++) {
            const ok = (await request(`${emulator.url}/readings/c${c}/r${n}.json?ns=${NS}&print=silent`, "PUT", JSON.stringify({ cm: n % 200, at: n }))) === 204;
            if (ok && performance.now() >= counting && performance.now() < until) acked++;
          }
        }),
      );
      await stop(emulator);
      return acked / seconds;
    },

    close: () => agent.destroy(),
  };
}
