/**
 * The Firebase emulator's storage as the data grows, next to the store it replaced (the whole-tree store of commit
 * 99f6a22, taken from git into a temporary folder and run in the same way) in the same run:
 *   1. a small write's cost at 0, 100k and 1M stored nodes: the tree update alone, in this process (in-place write
 *      vs the old normalize(setAt(…)) done twice, for the write and for the rules' preview), and a PUT over HTTP to
 *      the emulator in a child process with a data directory (fsync included), median of sequential writes;
 *   2. a restart at those sizes: a child process started on a data directory holding a snapshot of that many nodes
 *      plus a log of 2,000 records, timed until its first GET is answered (and an empty directory for the fixed cost
 *      of starting Node and tsx);
 *   3. a compaction: the longest the event loop waits during it (the snapshot is written in slices while writes go
 *      on), next to the old store's JSON.stringify of the whole tree on the loop;
 *   4. acknowledged writes a second from 1 client in sequence and from 100 concurrent clients, with a data directory
 *      (fsync) — and, for the cost of durability, the new emulator without one.
 *
 *   npx tsx bench/firebase-store.ts [--sizes 0,100000,1000000] [--seconds 5] [--peer 99f6a22 | --peer none]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { normalize, setAt } from "../firmware/net/firebase/tree.ts";
import type { JsonValue } from "../firmware/net/firebase/ordering.ts";
import { writeInPlace } from "../host-tools/cloud/firebase/live-tree.ts";
import { NamespaceStore } from "../host-tools/cloud/firebase/store.ts";
import { median, NS, readingsTree, storageBench, type Which } from "./support/emulator-storage.ts";

const { values: args } = parseArgs({ options: { sizes: { type: "string", default: "0,100000,1000000" }, seconds: { type: "string", default: "5" }, peer: { type: "string", default: "99f6a22" } } });
const sizes = args.sizes.split(",").map(Number);
const seconds = Number(args.seconds);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-bench-store-"));
const { makeDataDir, restartCost, putCost, throughput, emptyDataDir, close } = storageBench({ scratch, seconds, peer: args.peer === "none" ? undefined : args.peer });
const ms = (value: number) => (value < 10 ? value.toFixed(3) : value.toFixed(0)).padStart(9);

/** The tree update alone: the new in-place write, the old whole-tree one (twice: the write and the rules' preview). */
function treeUpdateCost(root: JsonValue): { now: number; old: number } {
  const at = ["readings", "d7", "new"];
  let live = structuredClone(root);
  const nowTimes: number[] = [];
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    live = writeInPlace(live, [...at.slice(0, 2), `new${i}`], normalize({ cm: 12, at: i }));
    nowTimes.push(performance.now() - started);
  }
  const oldTimes: number[] = [];
  let tree = root;
  const budget = performance.now() + 20_000;
  for (let i = 0; i < 20 && (i < 3 || performance.now() < budget); i++) {
    const started = performance.now();
    normalize(setAt(tree, [...at.slice(0, 2), `new${i}`], normalize({ cm: 12, at: i })));
    tree = normalize(setAt(tree, [...at.slice(0, 2), `new${i}`], normalize({ cm: 12, at: i })));
    oldTimes.push(performance.now() - started);
  }
  return { now: median(nowTimes), old: median(oldTimes) };
}

/** A compaction of a tree of `nodes` in this process, with the event loop's delay watched (1 ms resolution). */
async function compactionPause(nodes: number): Promise<{ maxStall: number; total: number }> {
  const dir = fs.mkdtempSync(path.join(scratch, "compact-"));
  const store = new NamespaceStore(NS, dir, { afterBytes: 1 });
  store.root = readingsTree(nodes);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const started = performance.now();
  await store.commit({ set: ["x"], value: 1 }); // the batch after which the compaction starts
  await store.close(); // waits for it
  const total = performance.now() - started;
  delay.disable();
  if (!fs.existsSync(path.join(dir, `${NS}.snapshot.json`))) throw new Error("compaction did not run");
  return { maxStall: delay.max / 1e6, total };
}

const peers: Which[] = args.peer === "none" ? ["new"] : ["new", "old"];
console.log(`Firebase emulator storage; peer "old" = the store at ${args.peer} (whole-tree normalize per write, one fsync per write)`);
console.log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model}), Node ${process.version}, data in ${os.tmpdir()}\n`);

console.log("write cost (ms, median)                    tree update       PUT over HTTP with fsync");
console.log("nodes        store    in this process      (child process)     restart: start + first GET (snapshot + 2,000-record log)");
const base = await restartCost("new", emptyDataDir());
for (const nodes of sizes) {
  const root = readingsTree(nodes);
  const update = treeUpdateCost(root);
  const snapshotOnly = makeDataDir(nodes, root, false);
  const withLog = makeDataDir(nodes, root, true);
  for (const which of peers) {
    const writes = which === "old" && nodes >= 100_000 ? 3 : 50;
    const put = await putCost(which, snapshotOnly, writes);
    // The old store replays each log record at the whole-tree cost: 2,000 of them at 100k nodes and more take minutes.
    const restart = which === "old" && nodes >= 100_000 ? Number.NaN : await restartCost(which, withLog);
    const restartText = Number.isNaN(restart) ? "   (not run: 2,000 records × the old write cost)" : `${ms(restart)} ms`;
    console.log(`${String(nodes).padEnd(12)} ${which.padEnd(8)} ${ms(which === "new" ? update.now : update.old)} ms        ${ms(put)} ms (${writes} writes)   ${restartText}`);
  }
}
console.log(`(starting Node + tsx on an empty data directory and one GET: ${base.toFixed(0)} ms of each restart above)\n`);

console.log("compaction at that size (median of 3): the longest the event loop waited, and how long the compaction took");
for (const nodes of sizes) {
  const runs = [await compactionPause(nodes), await compactionPause(nodes), await compactionPause(nodes)];
  const pause = { maxStall: median(runs.map((run) => run.maxStall)), total: median(runs.map((run) => run.total)) };
  const tree = { root: readingsTree(nodes), rules: { rules: { ".read": true, ".write": true } } };
  const started = performance.now();
  JSON.stringify(tree); // what the old store did on the event loop, all at once, to compact
  const old = performance.now() - started;
  console.log(`${String(nodes).padEnd(12)} new: loop waited at most ${ms(pause.maxStall)} ms, compaction took ${ms(pause.total)} ms   old: ${ms(old)} ms on the loop`);
}
console.log("");

console.log(`acknowledged writes a second (each PUT answered; ${seconds} s each)`);
for (const which of peers) {
  for (const durable of which === "new" ? [true, false] : [true]) {
    const one = await throughput(which, durable, 1);
    const hundred = await throughput(which, durable, 100);
    console.log(`${which.padEnd(4)} ${durable ? "data directory (fsync)" : "memory only           "}   1 client ${one.toFixed(0).padStart(6)}/s   100 clients ${hundred.toFixed(0).padStart(6)}/s`);
  }
}
close();
fs.rmSync(scratch, { recursive: true, force: true });
