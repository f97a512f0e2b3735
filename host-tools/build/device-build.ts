import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { EsplabError } from "../../firmware/core/errors.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** Where device builds go (mcconfig -o), inside the project so a clone's builds stay with it. */
export const DEVICE_BUILD_DIR = path.join(ROOT, "build", "device");
const RECORD = path.join(DEVICE_BUILD_DIR, "last-build.json");

/** The three images a Moddable ESP32 build produces, at ESP-IDF's default offsets. */
export interface DeviceBuild {
  directory: string;
  debug: boolean;
  images: { address: number; file: string; name: string }[];
}

const IMAGES = [
  { address: 0x1000, name: "bootloader.bin" },
  { address: 0x8000, name: "partition-table.bin" },
  { address: 0x10000, name: "xs_esp32.bin" },
];

/** What is missing to build for the device, as steps a person can follow; empty when everything is there. */
export function deviceToolchainProblems(env: NodeJS.ProcessEnv = process.env): string[] {
  const problems: string[] = [];
  const moddable = env.MODDABLE;
  if (!moddable) {
    problems.push("MODDABLE is not set: the Moddable SDK is not installed, or this shell has not loaded its environment.");
  } else if (!fs.existsSync(path.join(moddable, "build", "bin", process.platform === "darwin" ? "mac" : "lin", "release", "mcconfig"))
    && !onPath("mcconfig", env)) {
    problems.push(`MODDABLE is ${moddable}, but its tools are not built (no mcconfig there or on PATH).`);
  }
  if (!env.IDF_PATH) problems.push("IDF_PATH is not set: ESP-IDF (Espressif's SDK and xtensa compiler) is not installed or not loaded.");
  return problems;
}

export const INSTALL_GUIDANCE = `To build for the ESP32 you need the Moddable SDK and ESP-IDF on this machine. Either:
  1. xs-dev (installs and configures both):
       npm install -g xs-dev
       xs-dev setup --device esp32
     then open a new terminal (so MODDABLE and IDF_PATH are set) and check with: xs-dev doctor
  2. or by hand: follow the Moddable SDK "Getting Started" guide for your OS, then
     documentation/devices/esp32.md in the SDK (installs ESP-IDF and sets IDF_PATH).
Then run again: npx esplab build --device esp32`;

/**
 * Builds the bundled firmware for the ESP32 with mcconfig (`-t build`: build only; `esplab flash` deploys) and records
 * the images so `esplab flash` with no files picks them up.
 */
export async function buildForDevice(options: {
  debug: boolean;
  config: Record<string, string>;
  log: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}): Promise<DeviceBuild> {
  const env = options.env ?? process.env;
  const problems = deviceToolchainProblems(env);
  if (problems.length) throw new EsplabError("TOOLCHAIN", `${problems.join("\n")}\n\n${INSTALL_GUIDANCE}`);
  const args = ["-m", "-p", "esp32", "-t", "build", "-o", DEVICE_BUILD_DIR, ...(options.debug ? ["-d"] : [])];
  for (const [key, value] of Object.entries(options.config)) args.push(`${key}=${value}`);
  options.log(`mcconfig ${args.filter((a) => !/^(password|.*secret|.*token|.*key)=/i.test(a)).join(" ")}`);
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn("mcconfig", [path.join(ROOT, "manifest.json"), ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    const relay = (chunk: Buffer) => chunk.toString("utf8").split("\n").filter(Boolean).forEach(options.log);
    child.stdout.on("data", relay);
    child.stderr.on("data", relay);
    child.on("error", (error) => reject(new EsplabError("TOOLCHAIN", `cannot run mcconfig: ${error.message}\n\n${INSTALL_GUIDANCE}`)));
    child.on("close", (exit) => resolve(exit ?? 1));
  });
  if (code !== 0) throw new EsplabError("DEVICE_BUILD", `mcconfig failed (exit ${code}); its output is above`);
  const directory = findImages(DEVICE_BUILD_DIR, options.debug ? "debug" : "release");
  if (!directory) throw new EsplabError("DEVICE_BUILD", `mcconfig finished but no xs_esp32.bin is under ${DEVICE_BUILD_DIR}`);
  const build: DeviceBuild = { directory, debug: options.debug, images: IMAGES.map((i) => ({ ...i, file: path.join(directory, i.name) })) };
  fs.writeFileSync(RECORD, JSON.stringify(build, null, 2));
  return build;
}

/** The last device build, from `esplab build --device esp32` or a Moddable build directory given by the user. */
export function lastDeviceBuild(directory?: string): DeviceBuild | undefined {
  if (directory) {
    const found = fs.existsSync(path.join(directory, "xs_esp32.bin")) ? directory : findImages(directory, "release") ?? findImages(directory, "debug");
    if (!found) return undefined;
    return { directory: found, debug: found.includes(`${path.sep}debug${path.sep}`), images: IMAGES.map((i) => ({ ...i, file: path.join(found, i.name) })) };
  }
  if (!fs.existsSync(RECORD)) return undefined;
  return JSON.parse(fs.readFileSync(RECORD, "utf8")) as DeviceBuild;
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

function onPath(tool: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? "").split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, tool)));
}
