import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { cacheRoot, type ModdableSdk } from "./sdk.ts";

/** What ESP-IDF this machine has for a Moddable SDK: `problem` is unset only when a device build can compile. */
export interface EspIdfStatus {
  /** The version the SDK's esp32 build requires (`EXPECTED_ESP_IDF` in build/devices/esp32/manifest.json). */
  expected: string;
  path?: string;
  /** `git describe` of $IDF_PATH, as Moddable's makefile reads it. */
  found?: string;
  problem?: string;
}

/** The ESP-IDF version a Moddable SDK's esp32 build requires. */
export function expectedEspIdf(sdk: ModdableSdk): string {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(sdk.root, "build", "devices", "esp32", "manifest.json"), "utf8")) as { build?: { EXPECTED_ESP_IDF?: string } };
    return manifest.build?.EXPECTED_ESP_IDF ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Major and minor must match, as Moddable's own versionCheck.py requires. */
function sameMinor(expected: string, found: string): boolean {
  const minor = (v: string) => /^v?(\d+)\.(\d+)/.exec(v)?.slice(1, 3).join(".");
  return minor(expected) !== undefined && minor(expected) === minor(found);
}

export function espIdfStatus(sdk: ModdableSdk | undefined, env: NodeJS.ProcessEnv = process.env): EspIdfStatus {
  const expected = sdk ? expectedEspIdf(sdk) : "unknown";
  const install = `Install ESP-IDF ${expected} as Moddable's documentation/devices/esp32.md says (git clone -b ${expected} --recursive https://github.com/espressif/esp-idf.git, then ./install.sh esp32), and set IDF_PATH to it.`;
  const idfPath = env.IDF_PATH;
  if (!idfPath) return { expected, problem: `IDF_PATH is not set: ESP-IDF ${expected} (Espressif's SDK and the xtensa compiler) is not installed, or this shell has not loaded it. ${install}` };
  if (!fs.existsSync(path.join(idfPath, "export.sh"))) return { expected, path: idfPath, problem: `IDF_PATH is ${idfPath}, which holds no ESP-IDF (no export.sh there). ${install}` };
  const describe = spawnSync("git", ["-C", idfPath, "describe", "--always", "--abbrev=0"], { encoding: "utf8" });
  const found = describe.status === 0 ? describe.stdout.trim() : undefined;
  if (!found) return { expected, path: idfPath, problem: `cannot tell which ESP-IDF is at ${idfPath} (git describe failed there; Moddable reads the version from git). ${install}` };
  if (!sameMinor(expected, found)) {
    return { expected, path: idfPath, found, problem: `the ESP-IDF at ${idfPath} is ${found}; Moddable ${sdk?.version} needs ${expected}. ${install}` };
  }
  return { expected, path: idfPath, found };
}

/**
 * An ESP-IDF stand-in: a git folder tagged with the expected version and an empty export.sh. With it, mcconfig gets
 * through everything that runs before the first C compile (manifest, xsc, xsl, mcrez), which checks the device
 * image on a machine without ESP-IDF. It compiles nothing.
 */
export function espIdfStandIn(expected: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = path.join(cacheRoot(env), "esp-idf-stand-in", expected);
  if (fs.existsSync(path.join(dir, ".ready"))) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "export.sh"), "# stands in for ESP-IDF's export.sh: esplab checks the device image without compiling it\n");
  const git = (...args: string[]) => {
    const result = spawnSync("git", ["-C", dir, "-c", "user.name=esplab", "-c", "user.email=esplab@localhost", ...args], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`git ${args.join(" ")} failed in ${dir}: ${result.stderr || result.error?.message}`);
  };
  git("init", "-q");
  git("add", "export.sh");
  git("commit", "-q", "-m", "ESP-IDF stand-in");
  git("tag", "-a", expected, "-m", expected);
  fs.writeFileSync(path.join(dir, ".ready"), "");
  return dir;
}
