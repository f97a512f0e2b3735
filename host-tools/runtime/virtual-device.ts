import fs from "node:fs";
import { register } from "node:module";
import { pathToFileURL } from "node:url";
import type { FlatConfig } from "../../firmware/apps/config.ts";
import { startFirmware, type App } from "../../firmware/apps/index.ts";
import type { Clock } from "../../firmware/ports/clock.ts";
import type { Platform } from "../../firmware/ports/index.ts";
import type { Storage } from "../../firmware/ports/storage.ts";
import type { Connection, Transport } from "../../firmware/ports/transport.ts";
import { LAB_WIRING, VirtualBoard, wireBoard, type BoardDescription } from "../board/index.ts";
import { buildFirmwareBundle } from "../build/firmware-bundle.ts";
import { MemoryStorage } from "../platform/file-storage.ts";
import { NodeTransport } from "../platform/node-transport.ts";
import { SystemClock } from "../platform/system-clock.ts";
import { UsageError } from "../../firmware/core/errors.ts";
import { ModdableFirmware } from "../moddable/moddable-engine.ts";
import { findModdable, moddableProblem } from "../moddable/sdk.ts";
import { XsHost } from "../xs/xs-host.ts";
import { esplabProject, type Project } from "../project/project.ts";
import { sourceFiles } from "../project/app-scan.ts";
import { SerialLog } from "./serial-log.ts";

/**
 * Which JavaScript engine runs the firmware: Node (in this process, for debugging), XS (the device's engine, in
 * xsnap, every seam bridged), or Moddable (the device's own linker and runtime for Linux: its Timer, Preference and
 * sockets, with only the pins and buses bridged to the virtual board).
 */
export type Engine = "node" | "xs" | "moddable";
export const ENGINES: readonly Engine[] = ["node", "xs", "moddable"];

/** A command's --engine, checked before anything starts: a known name, and for moddable, Moddable's tools there. */
export function requireEngine(name: string | undefined, env: NodeJS.ProcessEnv = process.env): Engine {
  if (!ENGINES.includes(name as Engine)) throw new UsageError("ENGINE", `--engine must be ${ENGINES.join(", ")}; got "${name}"`);
  if (name === "moddable" && !findModdable(env)) throw new UsageError("ENGINE", `--engine moddable needs Moddable's tools: ${moddableProblem(env)}`);
  return name as Engine;
}

export interface VirtualDeviceOptions {
  config: FlatConfig;
  engine?: Engine;
  /** Whose firmware runs (default: esplab's own apps). */
  project?: Project;
  wiring?: BoardDescription;
  clock?: Clock;
  storage?: Storage;
  transport?: Transport;
  seed?: number;
}

/**
 * An ESP32 that exists only on the laptop: the virtual board with its parts, the firmware running on it (in Node or in
 * the XS engine), the laptop's network and storage, and a serial console. Stopping and starting it is a reset: the
 * parts keep their state (an LCD keeps its text until the firmware clears it), the firmware starts over.
 */
export class VirtualDevice {
  readonly board: VirtualBoard;
  readonly serial: SerialLog;
  readonly engine: Engine;
  readonly platform: Platform;
  readonly project: Project;
  config: FlatConfig;
  #app: App | undefined;
  #xs: XsHost | undefined;
  #moddable: ModdableFirmware | undefined;
  #bundleFile: string | undefined;
  readonly #wifi: Wifi;

  constructor(options: VirtualDeviceOptions) {
    const clock = options.clock ?? new SystemClock();
    this.engine = options.engine ?? "node";
    this.project = options.project ?? esplabProject();
    this.config = options.config;
    this.board = new VirtualBoard({ clock, seed: options.seed });
    wireBoard(this.board, options.wiring ?? LAB_WIRING);
    this.serial = new SerialLog(() => clock.now());
    this.platform = {
      io: this.board.io,
      clock,
      transport: (this.#wifi = new Wifi(this.board, options.transport ?? new NodeTransport())),
      storage: options.storage ?? new MemoryStorage(),
      log: this.serial.write,
    };
  }

  /** Starts the firmware; with the XS engine, builds the bundle first unless one is given (then kept for restarts). */
  async start(bundleFile?: string): Promise<void> {
    if (bundleFile !== undefined) this.#bundleFile = bundleFile;
    if (this.engine === "node") {
      await loadApps(this.project);
      this.#app = startFirmware(this.platform, this.config);
      return;
    }
    if (this.engine === "moddable") {
      this.#moddable ??= new ModdableFirmware(this.platform, { onLine: (line) => this.serial.write(line), project: this.project });
      await this.#moddable.start(this.config);
      return;
    }
    const bundle = fs.readFileSync(this.#bundleFile ?? (await buildFirmwareBundle("xs", this.project)), "utf8");
    this.#xs = new XsHost(this.platform, { onOutput: (line) => this.serial.write(`[xs] ${line}`) });
    await this.#xs.start(bundle, this.config);
  }

  /** Stops the firmware: timers, sockets and pins are released (and, on the Moddable engine, its flash erased). */
  async stop(): Promise<void> {
    await this.#halt();
    await this.#moddable?.close();
    this.#moddable = undefined;
  }

  /** Resets the board's firmware, as pressing EN does: what it stored survives. */
  async restart(bundleFile?: string): Promise<void> {
    await this.#halt();
    this.serial.write("--- reset ---");
    await this.start(bundleFile);
  }

  async #halt(): Promise<void> {
    this.#app?.stop();
    this.#app = undefined;
    await this.#moddable?.stop();
    if (this.#xs) {
      await this.#xs.evaluate("__esplab.stop()").catch(() => undefined);
      await this.#xs.idle().catch(() => undefined);
      await this.#xs.close();
      this.#xs = undefined;
    }
    // after the firmware's own stop, which may still say goodbye (an MQTT DISCONNECT)
    this.#wifi.reset();
  }

  /** With the XS engine: waits until the firmware has handled everything queued for it; rethrows its failures. */
  async idle(): Promise<void> {
    await this.#xs?.idle();
  }

  /** With the XS engine: whether a call into the firmware is queued or running. */
  get busy(): boolean {
    return this.#xs?.busy ?? false;
  }

  /** With the XS engine: a full garbage collection, and the meters after it (live heap). */
  async collectGarbage() {
    if (!this.#xs) throw new Error("collectGarbage needs the XS engine");
    return this.#xs.collectGarbage();
  }

  /** With the Moddable engine: the VM's memory report (stack peak, live slots and chunks). */
  moddableMemory() {
    if (!this.#moddable) throw new Error("moddableMemory needs the Moddable engine");
    return this.#moddable.memory();
  }

  /** XS compute units spent since the firmware started (0 on the Node engine). */
  get computeTotal(): number {
    return this.#xs?.computeTotal ?? 0;
  }

  /** XS meters of the last evaluation (compute units and heap), with the XS engine. */
  get meters() {
    return this.#xs?.lastMeters;
  }
}

let libraryHooked = false;
const checkedSources = new Map<string, string>();

function sourcesFingerprint(project: Project): string {
  return sourceFiles(project.sourceDir).map((file) => {
    const stat = fs.statSync(file);
    return `${file}:${stat.size}:${stat.mtimeMs}`;
  }).join("\n");
}

/**
 * On the Node engine, the project's apps register by being imported, as the bundles do on the other engines (a
 * student's project also gets esplab's board-check). Node keeps a module once loaded: an edit needs a new process.
 */
async function loadApps(project: Project): Promise<void> {
  if (!project.builtIn) {
    if (!libraryHooked) register("./library-hooks.mjs", import.meta.url);
    libraryHooked = true;
    // Node would run code the ESP32 cannot (console, setTimeout, Node modules): the same type check as every
    // engine, once per state of the sources.
    const fingerprint = sourcesFingerprint(project);
    if (checkedSources.get(project.root) !== fingerprint) {
      await buildFirmwareBundle("xs", project);
      checkedSources.set(project.root, fingerprint);
    }
  }
  const files = project.builtIn ? project.apps.map((app) => app.file) : [new URL("../../firmware/apps/board-check.ts", import.meta.url).pathname, ...project.apps.map((app) => app.file)];
  for (const file of files) await import(pathToFileURL(file).href);
}

/**
 * The laptop's network as the ESP32's Wi-Fi: the first connection starts the Wi-Fi driver, which from then on holds
 * ADC2 (see VirtualBoard.readAdc). A reset drops every connection the firmware made, as the ESP32's network stack
 * goes with it, and the stopped firmware hears nothing more of them (XS's host does the same for its engine). On the
 * Moddable engine the firmware uses Moddable's own sockets, so this is not seen there.
 */
class Wifi implements Transport {
  readonly #board: VirtualBoard;
  readonly #transport: Transport;
  #open = new Set<{ connection?: Connection; live: boolean }>();

  constructor(board: VirtualBoard, transport: Transport) {
    this.#board = board;
    this.#transport = transport;
  }

  async connect(target: Parameters<Transport["connect"]>[0], handlers: Parameters<Transport["connect"]>[1]): Promise<Connection> {
    this.#board.wifiStarted();
    const entry: { connection?: Connection; live: boolean } = { live: true };
    this.#open.add(entry);
    const connection = await this.#transport
      .connect(target, {
        onData: (bytes) => entry.live && handlers.onData(bytes),
        onClose: (error) => {
          this.#open.delete(entry);
          if (entry.live) handlers.onClose(error);
        },
      })
      .catch((error: Error) => {
        this.#open.delete(entry);
        throw error;
      });
    if (!entry.live) {
      connection.close();
      throw new Error("the ESP32 was reset while connecting");
    }
    entry.connection = connection;
    return connection;
  }

  /** The firmware stopped: its connections are closed and their events no longer reach it. */
  reset(): void {
    for (const entry of this.#open) {
      entry.live = false;
      entry.connection?.close();
    }
    this.#open = new Set();
  }
}
