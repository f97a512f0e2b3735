/**
 * The readings path under faults: a device (the telemetry firmware on a virtual board, its own process) publishes
 * numbered QoS 1 readings through a broker to `esplab readings subscribe` (its own process) storing them in SQLite,
 * while faults are injected one after another. At the end the device's queue is drained and the store is compared
 * with the device's sequence numbers: lost, duplicated and reordered readings.
 *
 * What counts as sent: every sequence number the device gave out. A number the device gave out and then died before
 * queuing (SIGKILL between numbering a reading and storing it in its queue) was never sent; the soak checks the
 * device's storage right after each kill and excuses only those. A reading the device refused to queue (queue full)
 * is reported on its own.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { utf8Decode } from "../../firmware/core/utf8.ts";
import { Outbox } from "../../firmware/net/mqtt/outbox.ts";
import type { Storage } from "../../firmware/ports/storage.ts";
import { ReadingsStore } from "../../host-tools/cloud/readings/readings-store.ts";
import { FileStorage } from "../../host-tools/platform/file-storage.ts";
import { startTcpProxy } from "../../test/support/tcp-proxy.ts";
import { esplabBroker, freePort, mosquittoBroker, type SoakBroker } from "./brokers.ts";
import { mountScratchDisk, scratchDiskProblem, type ScratchDisk } from "./scratch-disk.ts";

export const FAULT_KINDS = ["broker-restart", "subscriber-kill", "device-kill", "link-cut", "disk-full", "db-locked"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface SoakOptions {
  broker: "mosquitto" | "aedes";
  /** The mosquitto binary, for broker "mosquitto". */
  mosquitto?: string;
  faults: number;
  seed?: number;
  /** The device's reading interval (telemetry_interval_ms). */
  intervalMs?: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  broker: string;
  faults: Record<FaultKind, number>;
  /** Faults that could not be injected here, with why (the disk-full fault needs root). */
  skipped: string[];
  /** Sequence numbers the device gave out. */
  numbered: number;
  expected: number;
  stored: number;
  lost: number[];
  /** Rows beyond one per (device, seq) — the store's key forbids them; counted to prove it. */
  duplicatesInStore: number;
  /** Redeliveries the subscriber recognised and kept once. */
  redeliveries: number;
  /** Stored readings that arrived after a higher sequence number had been stored. */
  reordered: number;
  /** Numbered but never queued: the device was killed in between. */
  excused: number[];
  /** The device refused to queue them (its queue was full). */
  refused: number[];
  /** Disk-full and lock faults that reached the store (the subscriber said so): a full disk is not met when the
   * store happens to need no new space while it lasts (SQLite reuses its WAL). */
  diskFullMet: number;
  lockMet: number;
  seconds: number;
}

const root = path.resolve(import.meta.dirname, "../..");
const DEVICE_ID = "Soak001";
const STORED_LINE = new RegExp(`^${DEVICE_ID} #(\\d+)`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A seeded shuffle of every fault kind, round after round, so each kind gets its share and order varies. */
function faultSchedule(count: number, kinds: readonly FaultKind[], seed: number): FaultKind[] {
  let state = seed >>> 0 || 1;
  const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const schedule: FaultKind[] = [];
  while (schedule.length < count) {
    const round = [...kinds];
    for (let i = round.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [round[i], round[j]] = [round[j]!, round[i]!];
    }
    schedule.push(...round);
  }
  return schedule.slice(0, count);
}

async function until(condition: () => boolean, what: string, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`soak: timed out after ${limitMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

async function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  await exited;
}

/** Storage read from the device's file without writing to it (the Outbox may tidy records it cannot read). */
function readOnly(storage: Storage): Storage {
  return { get: (domain, key) => storage.get(domain, key), keys: (domain) => storage.keys(domain), set: () => undefined, delete: () => undefined };
}

/** The device's sequence counter and the sequence numbers in its MQTT queue, from its storage file. */
function deviceState(storageFile: string): { counter: number; queued: Set<number> } {
  if (!fs.existsSync(storageFile)) return { counter: 0, queued: new Set() };
  const storage = readOnly(new FileStorage(storageFile));
  const counter = storage.get("telemetry", "seq");
  const outbox = new Outbox(storage, "mqtt-out", 64);
  const queued = new Set<number>();
  for (const entry of outbox.entries) {
    const message = outbox.read(entry);
    if (!message || !message.topic.startsWith("sensor/")) continue;
    const seq = (JSON.parse(utf8Decode(message.payload)) as { seq?: unknown }).seq;
    if (typeof seq === "number") queued.add(seq);
  }
  return { counter: typeof counter === "number" ? counter : 0, queued };
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-soak-"));
  const cleanups: (() => Promise<void> | void)[] = [() => fs.rmSync(work, { recursive: true, force: true })];
  try {
    const skipped: string[] = [];
    const diskProblem = scratchDiskProblem();
    let disk: ScratchDisk | undefined;
    if (diskProblem) skipped.push(`disk-full: ${diskProblem}`);
    else {
      disk = mountScratchDisk(path.join(work, "disk"), 8 * 1024 * 1024);
      cleanups.push(() => disk!.close());
    }
    const kinds = FAULT_KINDS.filter((kind) => kind !== "disk-full" || disk);
    const db = path.join(disk ? disk.dir : work, "readings.sqlite");

    const brokerPort = await freePort();
    const brokerDir = path.join(work, "broker");
    fs.mkdirSync(brokerDir);
    let broker: SoakBroker;
    if (options.broker === "mosquitto") {
      if (!options.mosquitto) throw new Error("soak: the mosquitto broker needs the mosquitto binary (apt-get install mosquitto)");
      broker = mosquittoBroker(options.mosquitto, brokerDir, brokerPort);
    } else broker = esplabBroker(brokerDir, brokerPort);
    await broker.start();
    cleanups.push(() => broker.stop());
    // Each side reaches the broker through its own relay, so one link can be cut at a time, as Wi-Fi drops.
    const deviceLink = await startTcpProxy(brokerPort);
    const subscriberLink = await startTcpProxy(brokerPort);
    cleanups.push(() => deviceLink.close(), () => subscriberLink.close());

    // ── the subscriber ──
    const storedOrder: number[] = [];
    let redeliveries = 0;
    let storeFullReports = 0;
    let storeLockedReports = 0;
    let subscriber: ChildProcess | undefined;
    const startSubscriber = async () => {
      const child = spawn(process.execPath, [path.join(root, "bin/esplab.js"), "readings", "subscribe", "--broker", `mqtt://127.0.0.1:${subscriberLink.port}`, "--db", db], {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
      });
      subscriber = child;
      let pending = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        pending += chunk;
        const lines = pending.split("\n");
        pending = lines.pop()!;
        for (const line of lines) {
          const match = STORED_LINE.exec(line);
          if (!match) continue;
          if (line.includes("(duplicate")) redeliveries++;
          else storedOrder.push(Number(match[1]));
        }
      });
      let errors = "";
      child.stderr!.on("data", (chunk: Buffer) => {
        const text = String(chunk);
        errors += text;
        for (const line of text.trim().split("\n")) if (line) log(`  subscriber: ${line}`);
        storeFullReports += text.match(/is full/g)?.length ?? 0;
        storeLockedReports += text.match(/is locked by another program/g)?.length ?? 0;
      });
      await until(() => /subscribed to sensor\/#/.test(errors) || child.exitCode !== null, "the subscriber to subscribe", 120_000);
      if (child.exitCode !== null) throw new Error(`soak: readings subscribe exited with ${child.exitCode}: ${errors.trim()}`);
    };
    cleanups.push(() => stopProcess(subscriber, "SIGKILL"));
    await startSubscriber();

    // ── the device ──
    const storageFile = path.join(work, "device-storage.json");
    /** The device's last number at each kill when its queue did not hold it: sent already, or never queued. */
    const numberedAtKill: number[] = [];
    const refused: number[] = [];
    let device: ChildProcess | undefined;
    const startDevice = async (intervalMs: number) => {
      const config = { app: "telemetry", device_id: DEVICE_ID, mqtt_url: `mqtt://127.0.0.1:${deviceLink.port}`, telemetry_interval_ms: intervalMs };
      const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "device-process.ts"), JSON.stringify(config), storageFile], {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
      });
      device = child;
      let output = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        output += chunk;
        for (const match of String(chunk).matchAll(/reading (\d+) not queued/g)) refused.push(Number(match[1]));
      });
      child.stderr!.on("data", (chunk: Buffer) => (output += chunk));
      await until(() => output.includes("device: started") || child.exitCode !== null, "the device to start", 120_000);
      if (child.exitCode !== null) throw new Error(`soak: the device exited with ${child.exitCode}: ${output.trim()}`);
    };
    cleanups.push(() => stopProcess(device, "SIGKILL"));
    const intervalMs = options.intervalMs ?? 250;
    await startDevice(intervalMs);

    // ── faults ──
    const faults = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
    let diskFullMet = 0;
    let lockMet = 0;
    const progress = async (what: string) => {
      const before = storedOrder.length;
      await until(() => storedOrder.length >= before + 4, `readings to be stored again after ${what}`, 120_000);
    };
    await progress("the start");
    const inject: Record<FaultKind, (round: number) => Promise<void>> = {
      "broker-restart": async () => {
        await broker.stop();
        await sleep(300);
        await broker.start();
      },
      "subscriber-kill": async () => {
        await stopProcess(subscriber, "SIGKILL");
        await sleep(500);
        await startSubscriber();
      },
      "device-kill": async () => {
        await stopProcess(device, "SIGKILL");
        const { counter, queued } = deviceState(storageFile);
        if (counter > 0 && !queued.has(counter)) numberedAtKill.push(counter);
        await sleep(300);
        await startDevice(intervalMs);
      },
      "link-cut": async (round) => {
        if (round % 3 !== 1) deviceLink.cut();
        if (round % 3 !== 0) subscriberLink.cut();
      },
      "disk-full": async () => {
        const before = storeFullReports;
        disk!.fill();
        await until(() => storeFullReports > before, "the subscriber to meet the full disk", 10_000).then(
          () => diskFullMet++,
          () => log("  (the store needed no new space while the disk was full)"),
        );
        disk!.free();
      },
      "db-locked": async () => {
        const before = storeLockedReports;
        const other = new Database(db, { timeout: 10_000 });
        try {
          other.exec("BEGIN EXCLUSIVE");
          await until(() => storeLockedReports > before, "the subscriber to meet the lock", 60_000);
          lockMet++;
          other.exec("COMMIT");
        } finally {
          other.close();
        }
      },
    };
    const schedule = faultSchedule(options.faults, kinds, options.seed ?? 1);
    for (const [index, kind] of schedule.entries()) {
      faults[kind]++;
      const faultStarted = Date.now();
      const numberedBefore = deviceState(storageFile).counter;
      await inject[kind](faults[kind]);
      await progress(kind);
      log(`fault ${index + 1}/${schedule.length}: ${kind} at reading #${numberedBefore} (recovered in ${((Date.now() - faultStarted) / 1000).toFixed(1)} s)`);
    }

    // ── drain: the device stops numbering and sends what it still has queued ──
    await stopProcess(device, "SIGTERM");
    const { counter: numbered } = deviceState(storageFile);
    await startDevice(1_000_000_000);
    const candidates: number[] = [];
    const refusedSet = new Set(refused);
    for (let seq = 1; seq <= numbered; seq++) if (!refusedSet.has(seq)) candidates.push(seq);
    const storedNow = () => {
      const reader = new Database(db, { readonly: true, timeout: 10_000 });
      try {
        return (reader.prepare("SELECT seq FROM readings WHERE device = ?").all(DEVICE_ID) as { seq: number }[]).map((row) => row.seq);
      } finally {
        reader.close();
      }
    };
    const drainDeadline = Date.now() + 120_000;
    for (;;) {
      const have = new Set(storedNow());
      const missing = candidates.filter((seq) => !have.has(seq));
      if (missing.every((seq) => numberedAtKill.includes(seq)) || Date.now() > drainDeadline) break;
      await sleep(250);
    }
    await stopProcess(device, "SIGTERM");
    await stopProcess(subscriber, "SIGTERM");

    const store = new ReadingsStore(db);
    let storedSeqs: number[];
    try {
      storedSeqs = store.readings({ device: DEVICE_ID }).map((reading) => reading.seq!);
    } finally {
      store.close();
    }
    const stored = new Set(storedSeqs);
    // numbered at the instant of a kill and not in the queue, and never arrived: the device died before queuing it
    const excused = numberedAtKill.filter((seq) => !stored.has(seq));
    const expected = candidates.filter((seq) => !excused.includes(seq));
    let highest = 0;
    let reordered = 0;
    for (const seq of storedOrder) {
      if (seq < highest) reordered++;
      highest = Math.max(highest, seq);
    }
    return {
      broker: broker.name,
      faults,
      skipped,
      numbered,
      expected: expected.length,
      stored: stored.size,
      lost: expected.filter((seq) => !stored.has(seq)),
      duplicatesInStore: storedSeqs.length - stored.size,
      redeliveries,
      reordered,
      excused,
      refused,
      diskFullMet,
      lockMet,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}
