/**
 * A class on one laptop (issue #16 item 5): N boards running Assignment 2 against one local cloud, each with its own
 * account, each reading the sensor, writing the reading to the RTDB, reading it back and moving the servo every 2 s.
 * Prints, per N, the loop's p50/p99/max (the 2 s timer firing → the servo given its angle), the cloud's CPU, memory
 * and largest event-loop stall (measured in the cloud's own process), and the boards' processes' CPU; then the
 * storage figures of bench/firebase-store.ts (a write and a restart at 0, 100k and 1M stored nodes, acknowledged
 * writes a second from 100 clients), measured by the same code (bench/support/emulator-storage.ts).
 *
 * What a board is: see bench/class-scale/boards.ts. The boards run in worker processes (--per-worker boards
 * each) beside the cloud's process, so the machine's cores are shared by the cloud and the boards, as they would not
 * be in a class (each board is its own ESP32): the loop times are an upper bound for the cloud's share.
 *
 *   npm run bench:class [-- --boards 30,100,300:app --seconds 20 --aligned --sizes 0,100000 --storage-seconds 5]
 *   --boards   runs of N boards, each N or N:full (the lab's virtual board) or N:app (Assignment 2 without part
 *              models: bench/class-scale/boards.ts says what each is)
 *   --aligned also runs every N with all loops firing at the same instant (the worst case), besides staggered
 *   --sizes none skips the storage figures
 *   --cpu-prof DIR writes V8 CPU profiles into DIR: each process's whole life (node --cpu-prof), and the cloud's
 *     measuring window alone (cloud-window-<pid>.cpuprofile)
 */
import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { FlatConfig } from "../firmware/apps/config.ts";
import type { CloudStats } from "./class-scale/cloud-process.ts";
import type { StartMessage, WorkerReport } from "./class-scale/board-worker.ts";
import { storageBench } from "./support/emulator-storage.ts";
import { BOARD_KINDS, type BoardKind } from "./class-scale/boards.ts";

const { values: args } = parseArgs({
  options: {
    boards: { type: "string", default: "30,100,300,300:app,1000:app" },
    seconds: { type: "string", default: "20" },
    "per-worker": { type: "string", default: "250" },
    aligned: { type: "boolean", default: false },
    sizes: { type: "string", default: "0,100000,1000000" },
    "storage-seconds": { type: "string", default: "5" },
    "cpu-prof": { type: "string" },
  },
});
const LOOP_MS = 2000;
/** Boards signing in at the same time, over all workers: a class switching on its boards, not all in one instant. */
const SIGN_INS_AT_ONCE = 20;
const runs = args.boards.split(",").map((item) => {
  const [count, kind = "full"] = item.split(":");
  if (!/^[1-9]\d*$/.test(count!) || !BOARD_KINDS.includes(kind as BoardKind)) throw new Error(`--boards takes N or N:full or N:app, separated by commas; got "${item}"`);
  return { boards: Number(count), kind: kind as BoardKind };
});
const seconds = Number(args.seconds);
const perWorker = Number(args["per-worker"]);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-bench-class-"));
const here = import.meta.dirname;

/** A child process with an IPC channel, and a way to wait for its next message of a type. */
interface Child {
  process: ChildProcess;
  next<T>(type: string): Promise<T>;
}

function spawnChild(file: string, argv: string[] = []): Child {
  const profile = args["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(args["cpu-prof"])}`] : [];
  const child = fork(path.join(here, file), argv, { execArgv: ["--import", "tsx", ...profile], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const waiting = new Map<string, (message: unknown) => void>();
  const early = new Map<string, unknown>();
  child.on("message", (message: { type: string; message?: string }) => {
    if (message.type === "error") {
      console.error(`${file}: ${message.message}`);
      process.exit(1);
    }
    const waiter = waiting.get(message.type);
    waiting.delete(message.type);
    if (waiter) waiter(message);
    else early.set(message.type, message);
  });
  child.on("exit", (code, signal) => {
    if (code !== 0 && signal !== "SIGKILL") {
      console.error(`${file} exited with ${code ?? signal}`);
      process.exit(1);
    }
  });
  return {
    process: child,
    next<T>(type: string) {
      if (early.has(type)) {
        const message = early.get(type) as T;
        early.delete(type);
        return Promise.resolve(message);
      }
      return new Promise<T>((resolve) => waiting.set(type, resolve as (message: unknown) => void));
    },
  };
}

async function stopChild(child: Child): Promise<void> {
  const exited = new Promise((resolve) => child.process.once("exit", resolve));
  child.process.send({ type: "stop" });
  const timer = setTimeout(() => child.process.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);
const load = () => os.loadavg()[0]!.toFixed(1);

interface ClassRun {
  boards: number;
  kind: BoardKind;
  workers: number;
  phases: "staggered" | "aligned";
  signInS: number;
  loops: number[];
  ticks: number;
  failures: number;
  cloud: CloudStats;
  boardsCpu: number;
  loadBefore: string;
  loadAfter: string;
}

async function classRun(boards: number, kind: BoardKind, phases: "staggered" | "aligned"): Promise<ClassRun> {
  const loadBefore = load();
  const dataDir = fs.mkdtempSync(path.join(scratch, "cloud-"));
  const cloud = spawnChild("class-scale/cloud-process.ts", args["cpu-prof"] ? [dataDir, path.resolve(args["cpu-prof"])] : [dataDir]);
  const { firmwareConfig, authUrl } = await cloud.next<{ firmwareConfig: FlatConfig; authUrl: string }>("ready");
  const workerCount = Math.ceil(boards / perWorker);
  const workers = Array.from({ length: workerCount }, () => spawnChild("class-scale/board-worker.ts"));
  const started = performance.now();
  await Promise.all(
    workers.map(async (worker, w) => {
      await worker.next("spawned");
      const mine = Array.from({ length: boards }, (_, n) => n).filter((n) => n % workerCount === w);
      // Staggered: board n fires n/N of the way through the 2 s, so the cloud sees an even stream.
      const start: StartMessage = { type: "start", boards: mine, phases: mine.map((n) => (phases === "aligned" ? 0 : Math.floor((n * LOOP_MS) / boards))), firmwareConfig, authUrl, loopMs: LOOP_MS, kind, signInsAtOnce: Math.ceil(SIGN_INS_AT_ONCE / workerCount) };
      worker.process.send(start);
      await worker.next("ready");
    }),
  );
  const signInS = (performance.now() - started) / 1000;
  await sleep(LOOP_MS); // one more loop each before counting
  cloud.process.send({ type: "reset" });
  await cloud.next("reset");
  const from = Date.now();
  const until = from + seconds * 1000;
  for (const worker of workers) worker.process.send({ type: "window", from, until });
  await sleep(until - Date.now());
  cloud.process.send({ type: "stats" });
  const { stats } = await cloud.next<{ stats: CloudStats }>("stats");
  await sleep(LOOP_MS); // the loops that started inside the window finish
  const reports = await Promise.all(
    workers.map((worker) => {
      worker.process.send({ type: "report" });
      return worker.next<WorkerReport>("report");
    }),
  );
  await Promise.all([...workers, cloud].map(stopChild));
  fs.rmSync(dataDir, { recursive: true, force: true });
  return {
    boards,
    kind,
    workers: workerCount,
    phases,
    signInS,
    loops: reports.flatMap((report) => report.loops).sort((a, b) => a - b),
    ticks: reports.reduce((sum, report) => sum + report.ticks, 0),
    failures: reports.reduce((sum, report) => sum + report.failures, 0),
    cloud: stats,
    boardsCpu: reports.reduce((sum, report) => sum + report.cpuCores, 0),
    loadBefore,
    loadAfter: load(),
  };
}

console.log(`A class on one laptop: ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), Node ${process.version}, ${seconds} s measured per run, loop every ${LOOP_MS / 1000} s`);
console.log("board full = the lab's virtual board running Assignment 2 on the Node engine; app = Assignment 2's code and Firebase client without part models (bench/class-scale/boards.ts); each its own account and connections\n");
console.log("| boards | board | loops | worker processes | loops measured | loop p50 | loop p99 | loop max | failed / not run | cloud's answers p50 / p99 / max | cloud CPU | cloud RSS (peak) | cloud's largest stall | boards' CPU | sign-in of all | load before → after |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
const ms = (value: number) => `${value.toFixed(value < 100 ? 1 : 0)} ms`;
for (const { boards, kind } of runs) {
  for (const phases of args.aligned ? (["staggered", "aligned"] as const) : (["staggered"] as const)) {
    const run = await classRun(boards, kind, phases);
    const notRun = run.ticks - run.loops.length - run.failures;
    console.log(
      `| ${run.boards} | ${run.kind} | ${run.phases} | ${run.workers} | ${run.loops.length} | ${ms(percentile(run.loops, 50))} | ${ms(percentile(run.loops, 99))} | ${ms(run.loops.at(-1) ?? Number.NaN)} | ` +
        `${run.failures} / ${notRun} | ${ms(run.cloud.answers.p50)} / ${ms(run.cloud.answers.p99)} / ${ms(run.cloud.answers.max)} | ${(run.cloud.cpuCores * 100).toFixed(0)} % of a core | ${run.cloud.rssMb.toFixed(0)} MB (${run.cloud.peakRssMb.toFixed(0)}) | ` +
        `${ms(run.cloud.maxStallMs)} | ${(run.boardsCpu * 100).toFixed(0)} % of a core | ${run.signInS.toFixed(1)} s | ${run.loadBefore} → ${run.loadAfter} |`,
    );
  }
}
console.log("\nloop = the 2 s timer firing → the servo given its angle (sensor read, push, query read-back, angle mapped); not run = a tick skipped because the last loop was still running; cloud's answers = each database request from its arrival to its response sent, in the cloud's process");

if (args.sizes !== "none") {
  const storage = storageBench({ scratch, seconds: Number(args["storage-seconds"]) });
  const sizes = args.sizes.split(",").map(Number);
  console.log("\nStorage (the emulator alone, in its own process, with a data directory: fsync per group commit), bench/support/emulator-storage.ts\n");
  console.log("| stored nodes | PUT (median of 50, over HTTP) | × the PUT at 0 | restart: start + first GET (snapshot + 2,000-record log) | load |");
  console.log("|---|---|---|---|---|");
  const base = await storage.restartCost("new", storage.emptyDataDir());
  let putAtZero = Number.NaN;
  for (const nodes of sizes) {
    const root = storage.readingsTree(nodes);
    const put = await storage.putCost("new", storage.makeDataDir(nodes, root, false), 50);
    if (nodes === 0) putAtZero = put;
    const restart = await storage.restartCost("new", storage.makeDataDir(nodes, root, true));
    console.log(`| ${nodes.toLocaleString("en")} | ${put.toFixed(2)} ms | ${(put / putAtZero).toFixed(2)} | ${ms(restart)} | ${load()} |`);
  }
  console.log(`\n(of each restart, ${ms(base)} is starting Node + tsx on an empty data directory and one GET)`);
  const hundred = await storage.throughput("new", true, 100);
  console.log(`acknowledged writes a second, 100 concurrent clients, data directory (fsync): ${hundred.toFixed(0)}/s (load ${load()})`);
  storage.close();
}
fs.rmSync(scratch, { recursive: true, force: true });
