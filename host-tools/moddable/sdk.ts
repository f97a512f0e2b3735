import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { EsplabError } from "../../firmware/core/errors.ts";

/** The Moddable SDK release esplab's firmware is built and tested with. */
export const MODDABLE_VERSION = "8.2.3";

/** A Moddable SDK whose command-line tools are built: `root` is what $MODDABLE must be, `bin` holds mcconfig, xsc… */
export interface ModdableSdk {
  root: string;
  bin: string;
  version: string;
  /** Where it was found: the user's own install ($MODDABLE) or esplab's cache, built from an SDK archive. */
  source: "MODDABLE" | "cache";
}

const HOST_FOLDER = process.platform === "darwin" ? "mac" : "lin";
const TOOLS = ["mcconfig", "mcrez", "xsc", "xsl"];

/** `$ESPLAB_CACHE`, else `$XDG_CACHE_HOME/esplab`, else `~/.cache/esplab`: outside every checkout, shared by them. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ESPLAB_CACHE) return env.ESPLAB_CACHE;
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "esplab");
}

/** An SDK folder with built tools, or the names of the tools it lacks. */
function inspect(root: string, source: ModdableSdk["source"]): ModdableSdk | { missing: string[] } {
  const bin = path.join(root, "build", "bin", HOST_FOLDER, "release");
  const missing = TOOLS.filter((tool) => !fs.existsSync(path.join(bin, tool)));
  if (missing.length) return { missing };
  return { root, bin, version: sdkVersion(root), source };
}

function sdkVersion(root: string): string {
  try {
    return fs.readFileSync(path.join(root, "tools", "VERSION"), "utf8").trim();
  } catch {
    return "unknown";
  }
}

/** The cached SDKs, newest first (their folders are named `<version>-<archive hash>`). */
function cachedSdks(env: NodeJS.ProcessEnv): string[] {
  const dir = path.join(cacheRoot(env), "moddable");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => /^\d+\.\d+\.\d+-[0-9a-f]{12}$/.test(name))
    .sort((a, b) => compareVersions(b.split("-")[0]!, a.split("-")[0]!))
    .map((name) => path.join(dir, name));
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

/**
 * The Moddable SDK to use: `$MODDABLE` when it is set (a user's own install; its tools must be built), else the
 * newest one esplab's cache holds of the pinned version. Undefined when there is none.
 */
export function findModdable(env: NodeJS.ProcessEnv = process.env): ModdableSdk | undefined {
  if (env.MODDABLE) {
    const found = inspect(env.MODDABLE, "MODDABLE");
    return "missing" in found ? undefined : found;
  }
  for (const dir of cachedSdks(env)) {
    const found = inspect(dir, "cache");
    if (!("missing" in found) && found.version === MODDABLE_VERSION) return found;
  }
  return undefined;
}

/** Why `findModdable` found nothing, as steps a person can follow. */
export function moddableProblem(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MODDABLE) {
    const found = inspect(env.MODDABLE, "MODDABLE");
    if (!fs.existsSync(env.MODDABLE)) return `MODDABLE is ${env.MODDABLE}, which does not exist. Fix MODDABLE, or unset it to use esplab's cache.`;
    if ("missing" in found) {
      return `MODDABLE is ${env.MODDABLE}, but its command-line tools are not built (no ${found.missing.join(", ")} in build/bin/${HOST_FOLDER}/release). Build them as the SDK's Getting Started says, or run: npx esplab moddable setup --sdk <moddable-sdk-${MODDABLE_VERSION}.tar.xz>`;
    }
  }
  return `the Moddable SDK is not installed: MODDABLE is not set and esplab's cache (${path.join(cacheRoot(env), "moddable")}) holds no SDK ${MODDABLE_VERSION}. Install it by Moddable's Getting Started guide (then set MODDABLE), or build its tools from an SDK archive: npx esplab moddable setup --sdk <moddable-sdk-${MODDABLE_VERSION}.tar.xz>`;
}

/** The environment Moddable's tools expect: MODDABLE, and their folder first on PATH (mcconfig calls xsc, xsl…). */
export function moddableEnv(sdk: ModdableSdk, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, MODDABLE: sdk.root, PATH: `${sdk.bin}${path.delimiter}${env.PATH ?? ""}` };
}

/**
 * Unpacks an SDK source archive and builds its command-line tools (xsc, xsid, xsl, then mcconfig and the rest) into
 * the cache, keyed on the version and the archive's hash; a second call with the same archive reuses that build.
 * The build happens in a scratch folder renamed into place at the end, so an interrupted build leaves no half SDK.
 */
export async function setupModdable(options: { archive: string; log: (line: string) => void; env?: NodeJS.ProcessEnv }): Promise<ModdableSdk> {
  const env = options.env ?? process.env;
  const archive = path.resolve(options.archive); // tar runs in the scratch folder
  if (!fs.existsSync(archive)) throw new EsplabError("MODDABLE", `no SDK archive at ${archive}`);
  const digest = await sha256(archive);
  const version = /moddable-sdk-(\d+\.\d+\.\d+)/.exec(path.basename(archive))?.[1];
  if (!version) throw new EsplabError("MODDABLE", `${path.basename(archive)} is not named moddable-sdk-<version>.tar.xz; rename it so the cache can be keyed on the version`);
  const dir = path.join(cacheRoot(env), "moddable");
  const target = path.join(dir, `${version}-${digest.slice(0, 12)}`);
  const cached = fs.existsSync(target) ? inspect(target, "cache") : undefined;
  if (cached && !("missing" in cached)) {
    options.log(`Moddable SDK ${version}: tools already built in ${target}`);
    return cached;
  }
  fs.mkdirSync(dir, { recursive: true });
  const scratch = fs.mkdtempSync(path.join(dir, `.building-${version}-`));
  try {
    options.log(`Moddable SDK ${version}: unpacking ${archive}`);
    await run("tar", ["-xJf", archive, "-C", scratch], { cwd: scratch, env }, options.log, "unpacking needs tar and xz-utils");
    const root = fs.existsSync(path.join(scratch, "xs")) ? scratch : path.join(scratch, fs.readdirSync(scratch)[0] ?? "");
    if (!fs.existsSync(path.join(root, "xs", "makefiles"))) throw new EsplabError("MODDABLE", `${archive} does not hold a Moddable SDK (no xs/makefiles)`);
    const buildEnv = { ...env, MODDABLE: root, XS_DIR: path.join(root, "xs"), BUILD_DIR: path.join(root, "build"), PATH: `${path.join(root, "build", "bin", HOST_FOLDER, "release")}${path.delimiter}${env.PATH ?? ""}` };
    const makefiles = path.join(root, "build", "makefiles", HOST_FOLDER);
    const jobs = `-j${Math.max(1, os.availableParallelism())}`;
    for (const tool of ["xsc", "xsid", "xsl"]) {
      options.log(`Moddable SDK ${version}: building ${tool}`);
      await run("make", [jobs, "GOAL=release", "-f", path.join(root, "xs", "makefiles", HOST_FOLDER, `${tool}.mk`)], { cwd: makefiles, env: buildEnv }, options.log, BUILD_NEEDS);
    }
    options.log(`Moddable SDK ${version}: building mcconfig, mcrez and the other tools`);
    await run("make", [jobs, "GOAL=release", "-f", "tools.mk"], { cwd: makefiles, env: buildEnv }, options.log, BUILD_NEEDS);
    fs.rmSync(path.join(root, "build", "tmp"), { recursive: true, force: true });
    const built = inspect(root, "cache");
    if ("missing" in built) throw new EsplabError("MODDABLE", `the SDK build finished without ${built.missing.join(", ")}`);
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(root, target);
    options.log(`Moddable SDK ${version}: tools built in ${target}`);
    return { ...built, root: target, bin: path.join(target, "build", "bin", HOST_FOLDER, "release") };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = crypto.createHash("sha256");
    fs.createReadStream(file).on("data", (chunk) => hash.update(chunk)).on("error", reject).on("end", () => resolve(hash.digest("hex")));
  });
}

const BUILD_NEEDS = "building Moddable's tools needs gcc, make, pkgconf and libglib2.0-dev";

/** Runs a build step; its output is kept and shown only when it fails (the last lines name the problem). */
function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }, log: (line: string) => void, needs: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const output: string[] = [];
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString("utf8"));
      if (output.length > 400) output.splice(0, output.length - 400);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (error) =>
      reject(new EsplabError("MODDABLE", `cannot run ${command}: ${error.message} (${needs})`)),
    );
    child.on("close", (code) => {
      if (code === 0) return resolve();
      const tail = output.join("").split("\n").filter(Boolean).slice(-15);
      tail.forEach((line) => log(`  ${line}`));
      reject(new EsplabError("MODDABLE", `${command} ${args.join(" ")} failed (exit ${code}); the last lines of its output are above (${needs})`));
    });
  });
}
