import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { EsplabError } from "../../firmware/core/errors.ts";
import { readDeviceImage, type DeviceImage } from "../moddable/device-image.ts";
import { checkDeviceMemory } from "../moddable/memory-budget.ts";
import { espIdfStandIn, espIdfStatus } from "../moddable/esp-idf.ts";
import { findModdable, moddableEnv, moddableProblem, type ModdableSdk } from "../moddable/sdk.ts";
import { esplabProject, type Project } from "../project/project.ts";
import { firmwareWiringConfig, projectWiring } from "../project/wiring-file.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const MANIFEST = path.join(ROOT, "manifest.json");
const RECORD = "last-build.json";

/** The three images a Moddable ESP32 build produces, at ESP-IDF's default offsets. */
export interface DeviceBuild {
  directory: string;
  debug: boolean;
  images: { address: number; file: string; name: string }[];
}

/** How far a device build got: the image checked through xsl always; the flashable images only with ESP-IDF. */
export interface DeviceBuildResult {
  image: DeviceImage;
  build?: DeviceBuild;
  /** Why no flashable images were made (ESP-IDF missing or the wrong version), as a step to follow. */
  missing?: string;
}

const IMAGES = [
  { address: 0x1000, name: "bootloader.bin" },
  { address: 0x8000, name: "partition-table.bin" },
  { address: 0x10000, name: "xs_esp32.bin" },
];

/** The Moddable SDK a device build would use, or an error naming what to install. */
export function requireModdable(env: NodeJS.ProcessEnv = process.env): ModdableSdk {
  const sdk = findModdable(env);
  if (!sdk) throw new EsplabError("TOOLCHAIN", `cannot build for the ESP32: ${moddableProblem(env)}`);
  return sdk;
}

/**
 * Builds the bundled firmware for the ESP32 with mcconfig (`-t build`: build only; `esplab flash` deploys).
 * Everything up to the first C compile — the manifest, every xsc, xsl's link and preload, mcrez — runs on any machine
 * with the Moddable SDK: without ESP-IDF a stand-in lets mcconfig get that far, then the generated makefile builds
 * just the linked image (mc.xs.c) and resources. The image's memory is checked against the manifest's `creation`
 * before anything is compiled. With ESP-IDF the build goes on to the flashable images, recorded for `esplab flash`.
 */
export async function buildForDevice(options: {
  debug: boolean;
  config: Record<string, string>;
  log: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Whose firmware (default: esplab's own, with manifest.json); its bundles must be built first. */
  project?: Project;
  /** mcconfig's -o folder; the project's build/device unless a test moves it. */
  outputDir?: string;
  /** A manifest of the test's own, instead of the project's (its memory is not checked). */
  manifest?: string;
}): Promise<DeviceBuildResult> {
  const env = options.env ?? process.env;
  const sdk = requireModdable(env);
  const idf = espIdfStatus(sdk, env);
  const project = options.project ?? esplabProject();
  const outputDir = options.outputDir ?? project.deviceBuildDir;
  const manifest = options.manifest ?? (project.builtIn ? MANIFEST : writeProjectManifest(project));
  fs.mkdirSync(outputDir, { recursive: true });
  const toolEnv = moddableEnv(sdk, env);
  if (idf.problem) toolEnv.IDF_PATH = espIdfStandIn(idf.expected, env);

  const args = [manifest, "-m", "-p", "esp32", "-t", "build", "-o", outputDir, ...(options.debug ? ["-d"] : [])];
  for (const [key, value] of Object.entries(options.config)) args.push(`${key}=${value}`);
  options.log(`mcconfig ${args.slice(1).map(redactSecret).join(" ")}`);
  const mcconfig = await runTool("mcconfig", args, { cwd: path.dirname(manifest), env: toolEnv }, options.log);
  const flavour = options.debug ? "debug" : "release";
  const tmp = path.join(outputDir, "tmp", "esp32", flavour, path.basename(path.dirname(manifest)));
  // Without ESP-IDF the build stops at its first step that needs it (idf.py for sdkconfig.h, or the xtensa compiler;
  // make -j picks either first). What comes before — mcconfig's makefile — is all the check needs.
  const espIdfMissing = idf.problem !== undefined || /(xtensa-esp32-elf-gcc|idf\.py): (No such file|not found|command not found)/.test(mcconfig.output);
  if (mcconfig.code !== 0 && !(espIdfMissing && fs.existsSync(path.join(tmp, "makefile")))) {
    throw new EsplabError("DEVICE_BUILD", `mcconfig failed (exit ${mcconfig.code}): ${diagnose(mcconfig.output)}`);
  }

  let toolOutput = mcconfig.output;
  if (mcconfig.code !== 0) {
    // No xtensa compiler: build the parts that need none, from the makefile mcconfig generated.
    const make = await runTool("make", ["-f", "makefile", "SDKCONFIG_H=", path.join(tmp, "mc.xs.c"), path.join(tmp, "mc.resources.c")], { cwd: tmp, env: toolEnv }, options.log);
    toolOutput += make.output;
    if (make.code !== 0) throw new EsplabError("DEVICE_BUILD", `linking the device image failed (exit ${make.code}): ${diagnose(make.output)}`);
  }
  const image = readDeviceImage(path.join(tmp, "mc.xs.c"), toolOutput);
  // mcconfig skips a module whose files do not exist without a word.
  if (!image.modules.includes("main")) {
    throw new EsplabError("DEVICE_BUILD", `the image has no "main" module: ${path.basename(manifest)}'s "modules" names files that do not exist (${manifest})`);
  }
  if (!options.manifest) checkDeviceMemory(image);

  if (mcconfig.code !== 0) {
    const missing = idf.problem ?? "the xtensa-esp32-elf compiler is not on PATH: run . $IDF_PATH/export.sh (ESP-IDF's install.sh esp32 installs it), then build again";
    return { image, missing };
  }
  const directory = findImages(outputDir, flavour);
  if (!directory) throw new EsplabError("DEVICE_BUILD", `mcconfig finished but no xs_esp32.bin is under ${outputDir}`);
  const build: DeviceBuild = { directory, debug: options.debug, images: IMAGES.map((i) => ({ ...i, file: path.join(directory, i.name) })) };
  fs.writeFileSync(path.join(outputDir, RECORD), JSON.stringify(build, null, 2));
  return { image, build };
}

/**
 * A student project's manifest: esplab's (the same Moddable modules, TLS roots, memory and config keys) with the
 * project's bundles as its modules, written beside them. Paths become absolute, so it builds from anywhere.
 */
function writeProjectManifest(project: Project): string {
  const base = JSON.parse(fs.readFileSync(MANIFEST, "utf8")) as Record<string, unknown> & { config?: Record<string, unknown> };
  const firmware = path.join(project.bundleDir, "firmware");
  const manifest = {
    ...base,
    modules: { "*": [path.join(firmware, "main")], esplab: path.join(firmware, "esplab") },
    // The device drives the pins the project's wiring names, as the virtual board does.
    config: { ...base.config, ...firmwareWiringConfig(projectWiring(project).description), ...(project.defaultApp ? { app: project.defaultApp } : {}) },
  };
  const file = path.join(project.bundleDir, "manifest.json");
  fs.mkdirSync(project.bundleDir, { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  return file;
}

/** The last device build, from `esplab build --device esp32` or a Moddable build directory given by the user. */
export function lastDeviceBuild(directory?: string, project: Project = esplabProject()): DeviceBuild | undefined {
  if (directory) {
    const found = fs.existsSync(path.join(directory, "xs_esp32.bin")) ? directory : findImages(directory, "release") ?? findImages(directory, "debug");
    if (!found) return undefined;
    return { directory: found, debug: found.includes(`${path.sep}debug${path.sep}`), images: IMAGES.map((i) => ({ ...i, file: path.join(found, i.name) })) };
  }
  const record = path.join(project.deviceBuildDir, RECORD);
  if (!fs.existsSync(record)) return undefined;
  return JSON.parse(fs.readFileSync(record, "utf8")) as DeviceBuild;
}

function findImages(root: string, flavour: string): string | undefined {
  const base = path.join(root, "bin", "esp32", flavour);
  if (!fs.existsSync(base)) return undefined;
  for (const app of fs.readdirSync(base)) {
    const candidate = path.join(base, app);
    if (fs.existsSync(path.join(candidate, "xs_esp32.bin"))) return candidate;
  }
  return undefined;
}

/** Secrets given as key=value never reach the terminal. */
function redactSecret(arg: string): string {
  return /^(password|[a-z_]*(secret|token|key|certificate))=/i.test(arg) ? `${arg.slice(0, arg.indexOf("=") + 1)}••••••` : arg;
}

/** The lines of a Moddable tool's output that say what went wrong (its errors, or its last lines). */
function diagnose(output: string): string {
  const lines = output.split("\n").map((line) => line.trimEnd()).filter(Boolean);
  const errors = lines.filter((line) => /error|### |not found|cannot|undefined/i.test(line) && !/^# /.test(line));
  return `\n  ${(errors.length ? errors : lines.slice(-10)).slice(0, 20).join("\n  ")}`;
}

/** Runs a Moddable tool, relaying its progress lines (# xsc …) and keeping its whole output for diagnosis. */
function runTool(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }, log: (line: string) => void): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    let output = "";
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    const relay = () => {
      let partial = "";
      return (chunk: Buffer) => {
        const text = chunk.toString("utf8");
        output += text;
        const lines = (partial + text).split("\n");
        partial = lines.pop()!;
        for (const line of lines) if (line.startsWith("### ")) log(line);
      };
    };
    child.stdout.on("data", relay());
    child.stderr.on("data", relay());
    child.on("error", (error) => reject(new EsplabError("TOOLCHAIN", `cannot run ${command}: ${error.message}`)));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}
