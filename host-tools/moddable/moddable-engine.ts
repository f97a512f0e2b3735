import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { FlatConfig } from "../../firmware/apps/config.ts";
import { EsplabError } from "../../firmware/core/errors.ts";
import type { Platform } from "../../firmware/ports/index.ts";
import { buildFirmwareBundle } from "../build/firmware-bundle.ts";
import { esplabProject, type Project } from "../project/project.ts";
import { HostCalls } from "../runtime/host-calls.ts";
import { BoardBridge } from "./board-bridge.ts";
import { buildLinuxApp, bundleModdableEntry, type LinuxApp } from "./linux-host.ts";
import { findModdable, moddableProblem } from "./sdk.ts";

const LINUX = path.join(import.meta.dirname, "linux");

/** A memory report from the running VM (linux/board.c): slots are counted as on the ESP32, chunk bytes are Linux's. */
export interface ModdableMemory {
  /** creation.stack, and the deepest the stack has been since boot, in slots. */
  stackSlots: number;
  stackPeakSlots: number;
  /** Slots alive after a full collection (RAM: preloaded objects are not counted), and the most ever in use. */
  heapSlots: number;
  heapPeakSlots: number;
  /** Chunk bytes alive and at their peak (strings, arrays, closures); 64-bit Linux's sizes, above the ESP32's. */
  chunkBytes: number;
  chunkPeakBytes: number;
  /** Bytes per slot here (32 on 64-bit Linux; 16 on the ESP32). */
  slotBytes: number;
}

/**
 * The firmware on Moddable's own runtime for Linux (x-cli-lin): the device's bundle and main, linked and preloaded by
 * xsl with frozen built-ins, run by Moddable's XS with its own Timer, Time, Preference and sockets. Only the pins
 * and buses cross to the laptop: the ECMA-419 classes of `embedded:provider/builtin` are the virtual board's,
 * reached through a blocking call over a Unix socket (linux/board.c) — what the ESP32's hardware would answer.
 * Stack limits bite as on the device; the heap is malloc'ed (Linux ignores `creation.static`) and slots are 32 bytes.
 *
 * Time here is the runtime's own: Moddable's Timer and sockets run on the Linux runtime's main loop in real time, and
 * no seam carries the firmware's clock to the laptop (only pins and buses cross). It could take virtual time only if
 * its manifest swapped Timer for a bridged one, which would no longer be the device's runtime, so it does not: on
 * this engine scenarios run in real time (the board on a SystemClock, `within` limits wall-clock, written generously
 * — seconds for what takes milliseconds — for a loaded machine), and timing is judged deterministically on the Node
 * and XS engines, where the scenario's virtual clock drives everything.
 */
export class ModdableFirmware {
  readonly #platform: Platform;
  readonly #onLine: (line: string) => void;
  readonly #project: Project;
  readonly #storage: string;
  #bridge: BoardBridge | undefined;
  #calls: HostCalls | undefined;
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #stopping = false;
  #memoryWaiters: ((memory: ModdableMemory) => void)[] = [];

  /** `onLine` gets the serial console: trace() output, and the runtime's own reports (`# xs abort: …`). */
  constructor(platform: Platform, options: { onLine: (line: string) => void; project?: Project }) {
    this.#platform = platform;
    this.#onLine = options.onLine;
    this.#project = options.project ?? esplabProject();
    // The device's flash for Preference: kept across restarts of this firmware, gone with it.
    this.#storage = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-moddable-flash-"));
  }

  async start(config: FlatConfig, options: { creation?: Record<string, unknown> } = {}): Promise<void> {
    const app = await buildModdableFirmware({ ...options, project: this.#project });
    this.#calls = new HostCalls(this.#platform, (name, ...args) => this.#bridge?.deliver(name, ...args), {
      config: () => config,
      memory: (report: ModdableMemory) => {
        for (const resolve of this.#memoryWaiters.splice(0)) resolve(report);
      },
    });
    this.#bridge = await BoardBridge.open(() => this.#calls!);
    const child = spawn(app.binary, [], {
      cwd: this.#storage,
      env: { ...process.env, ESPLAB_BOARD: this.#bridge.path, ESPLAB_RESOURCES: app.resources },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#child = child;
    // trace() output is the serial console; of stderr, the runtime's own reports ("# xs abort: …").
    let partial = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop()!;
      for (const line of lines) this.#onLine(line);
    });
    let stderr = "";
    let stderrPartial = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      const lines = (stderrPartial + chunk).split("\n");
      stderrPartial = lines.pop()!;
      for (const line of lines) if (line.startsWith("# ")) this.#onLine(line);
    });
    this.#exited = new Promise((resolve) => {
      child.on("close", (status, signal) => {
        if (partial) this.#onLine(partial);
        if (stderrPartial.startsWith("# ")) this.#onLine(stderrPartial);
        // On the device any of these is a reset; here the firmware is gone until the next start, so say how it ended.
        if (!this.#stopping && !/^# xs abort: /m.test(stderr)) {
          this.#onLine(`# the firmware's VM ended: ${signal ? `killed by ${signal} (a crash inside Moddable's runtime)` : `exit status ${status}`}`);
        }
        resolve();
      });
      child.on("error", (error) => {
        this.#onLine(`# cannot run ${app.binary}: ${error.message}`);
        resolve();
      });
    });
  }

  /** Asks the running firmware for a memory report (taken after a full collection, between its own events). */
  memory(): Promise<ModdableMemory> {
    if (!this.#bridge || !this.#child) return Promise.reject(new EsplabError("MODDABLE", "the firmware is not running"));
    const report = new Promise<ModdableMemory>((resolve) => this.#memoryWaiters.push(resolve));
    this.#bridge.deliver("memory");
    return report;
  }

  /** Stops the VM (a power cut: nothing more runs) and releases the pins it held. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#child?.kill("SIGKILL");
    await this.#exited;
    this.#calls?.close();
    await this.#bridge?.close();
    this.#child = undefined;
    this.#bridge = undefined;
    this.#stopping = false;
  }

  /** Stops for good and erases the device's flash. */
  async close(): Promise<void> {
    await this.stop();
    fs.rmSync(this.#storage, { recursive: true, force: true });
  }
}

const built = new Map<string, Promise<LinuxApp>>();

/**
 * The Linux binary of the current firmware: its bundle, the board's provider, the engine's main. Built once per
 * state of the sources in this process (a reset or the next scenario reuses it; an edit rebuilds it).
 */
export function buildModdableFirmware(options: ModdableBuildOptions = {}): Promise<LinuxApp> {
  const project = options.project ?? esplabProject();
  const key = `${sourcesFingerprint(project)}|${JSON.stringify(options.creation ?? {})}`;
  let app = built.get(key);
  if (!app) {
    app = buildFresh({ ...options, project });
    built.set(key, app);
    app.catch(() => built.delete(key));
  }
  return app;
}

interface ModdableBuildOptions {
  creation?: Record<string, unknown>;
  log?: (line: string) => void;
  /** Whose firmware (default: esplab's own apps). */
  project?: Project;
}

/** Names, sizes and times of every file the binary is made from. */
function sourcesFingerprint(project: Project): string {
  const root = path.resolve(import.meta.dirname, "../..");
  const files: string[] = [path.join(root, "manifest.json")];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.push(full);
    }
  };
  walk(path.join(root, "firmware"));
  if (!project.builtIn) walk(project.sourceDir);
  walk(LINUX);
  return files.map((file) => {
    const stat = fs.statSync(file);
    return `${file}:${stat.size}:${stat.mtimeMs}`;
  }).join("\n");
}

async function buildFresh(options: ModdableBuildOptions & { project: Project }): Promise<LinuxApp> {
  const sdk = findModdable();
  if (!sdk) throw new EsplabError("MODDABLE", `the Moddable engine needs Moddable's tools: ${moddableProblem()}`);
  const library = await buildFirmwareBundle("device", options.project);
  const work = path.join(path.dirname(library), "moddable-linux");
  const provider = await bundleModdableEntry(path.join(LINUX, "provider.ts"), path.join(work, "provider.js"));
  return buildLinuxApp({
    sdk,
    name: "esplab-firmware",
    main: path.join(LINUX, "firmware-main.js"),
    modules: {
      esplab: library.replace(/\.js$/, ""),
      "mc/config": path.join(LINUX, "runtime-config"),
      "embedded:provider/builtin": provider.replace(/\.js$/, ""),
      "esplab/board": path.join(LINUX, "board"),
    },
    preload: ["esplab"],
    creation: { ...deviceCreation(), ...options.creation },
    log: options.log,
  });
}

/** The device manifest's creation block, so the stack limit is the ESP32's. */
function deviceCreation(): Record<string, unknown> {
  const manifest = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, "../../manifest.json"), "utf8")) as { creation?: Record<string, unknown> };
  return manifest.creation ?? {};
}
