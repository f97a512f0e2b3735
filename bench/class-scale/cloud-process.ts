/**
 * The local cloud as `esplab cloud` runs it (Firebase emulator with Assignment 2's cloud function, MQTT broker, a
 * data directory with fsync), alone in this process so that its CPU, memory and event-loop stalls are its own.
 * Started by bench/class-scale.ts with an IPC channel: it sends {ready, firmwareConfig} once it listens, and answers
 * "reset" (start a new measuring window) and "stats" (the window's figures) messages.
 *
 *   node --import tsx bench/class-scale/cloud-process.ts <dataDir> [profileDir]
 * With profileDir, the measuring window alone is profiled (V8's CPU profiler) into profileDir/cloud-window.cpuprofile.
 */
import fs from "node:fs";
import { Session } from "node:inspector/promises";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { startLocalCloud } from "../../host-tools/cloud/index.ts";

export interface CloudStats {
  /** CPU time (user + system) over the window's wall time, as a fraction of one core. */
  cpuCores: number;
  rssMb: number;
  /** The largest rss seen at any "stats" or 250 ms sample in the window. */
  peakRssMb: number;
  /** The longest a 1 ms timer was late in the window: the largest event-loop stall. */
  maxStallMs: number;
  p99StallMs: number;
  /** The database's own answer time (request received → response sent) in the window: p50, p99, max, count. */
  answers: { p50: number; p99: number; max: number; count: number };
}

if (!process.send) throw new Error("cloud-process.ts is started by bench/class-scale.ts with an IPC channel");
const [dataDir, profileDir] = process.argv.slice(2);
const profiler = profileDir ? new Session() : undefined;
profiler?.connect();
const cloud = await startLocalCloud({ databasePort: 0, authPort: 0, mqttPort: 0, dataDir });

// The database's own share of a board's loop: each request timed from its arrival to its response's last byte.
let answers: number[] = [];
cloud.firebase.database.server.on("request", (_request, response) => {
  const arrived = performance.now();
  response.once("finish", () => answers.push(performance.now() - arrived));
});

// resolution 1 ms: the delay of a 1 ms timer, so a stall shorter than ~1 ms does not show
const delay = monitorEventLoopDelay({ resolution: 1 });
let windowStart = { cpu: process.cpuUsage(), at: performance.now() };
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 250);
sampler.unref();

process.on("message", (message: { type: string }) => {
  if (message.type === "reset") {
    delay.disable();
    delay.reset();
    delay.enable();
    windowStart = { cpu: process.cpuUsage(), at: performance.now() };
    peakRss = process.memoryUsage.rss();
    answers = [];
    void (async () => {
      if (profiler) {
        await profiler.post("Profiler.enable");
        await profiler.post("Profiler.start");
      }
      process.send!({ type: "reset" });
    })();
  } else if (message.type === "stats") {
    const cpu = process.cpuUsage(windowStart.cpu);
    const rss = process.memoryUsage.rss();
    peakRss = Math.max(peakRss, rss);
    const stats: CloudStats = {
      cpuCores: (cpu.user + cpu.system) / 1000 / (performance.now() - windowStart.at),
      rssMb: rss / 2 ** 20,
      peakRssMb: peakRss / 2 ** 20,
      maxStallMs: delay.max / 1e6,
      p99StallMs: delay.percentile(99) / 1e6,
      answers: summary(answers),
    };
    void (async () => {
      if (profiler) {
        const { profile } = await profiler.post("Profiler.stop");
        fs.writeFileSync(path.join(profileDir!, `cloud-window-${process.pid}.cpuprofile`), JSON.stringify(profile));
      }
      process.send!({ type: "stats", stats });
    })();
  } else if (message.type === "stop") {
    void cloud.close().then(() => process.exit(0));
  }
});
function summary(times: number[]): CloudStats["answers"] {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? Number.NaN, count: sorted.length };
}

process.send({ type: "ready", firmwareConfig: cloud.firmwareConfig, authUrl: cloud.firebase.authUrl });
