import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { rollup } from "rollup";
import ts from "typescript";
import { EsplabError } from "../../firmware/core/errors.ts";
import { cacheRoot, type ModdableSdk } from "./sdk.ts";

/** What the host needs of a Moddable SDK: its root ($MODDABLE) and the folder of its built tools. */
export type SdkTools = Pick<ModdableSdk, "root" | "bin">;

const HOST_DIR = path.join(import.meta.dirname, "linux");

export interface LinuxAppOptions {
  sdk: SdkTools;
  /** Names the app's folder in the cache (letters, digits, dashes). */
  name: string;
  /** The app's main module: one ES module (bundled), whose Moddable imports the host manifest maps. */
  main: string;
  /** What `mc/config` exports (mcconfig makes no mc/config for x-cli-lin); `file.root` and `tls` get host defaults. */
  config?: Record<string, unknown>;
  /** More modules: specifier -> path without extension (.js and .c beside it are both taken). */
  modules?: Record<string, string>;
  /** Modules xsl preloads besides mc/config (their top level runs at link time; objects go to flash). */
  preload?: string[];
  /** The manifest's `creation` block (stack in slots, as on the device). */
  creation?: Record<string, unknown>;
  /** Files Moddable's Resource module may open (TLS root stores `ca.ski`, `caN.der`), by their names. */
  resources?: string[];
  /** Default: esplab's cache (sdk.ts cacheRoot), outside every checkout. */
  cacheDir?: string;
  log?: (line: string) => void;
}

export interface LinuxApp {
  binary: string;
  /** Folder given to the binary as $ESPLAB_RESOURCES. */
  resources: string;
  /** Whether this call ran mcconfig's make (false: the binary was up to date). */
  built: boolean;
  buildMs: number;
}

/**
 * Builds `main` for Moddable's headless Linux platform (`mcconfig -m -p x-cli-lin`) with esplab's host
 * (linux/main.c: machine, GLib loop, exit codes) and Moddable's lin modules (linux/manifest.json).
 *
 * mcconfig's make compares dates only, so each distinct manifest gets a folder of its own (named by a hash of it);
 * the main module and mc/config are rewritten only when their text changes, so make rebuilds exactly what changed.
 * All apps share one output folder and with it the compiled XS engine; builds into it take turns (a lock folder).
 */
export async function buildLinuxApp(options: LinuxAppOptions): Promise<LinuxApp> {
  if (!/^[a-z0-9-]+$/i.test(options.name)) throw new EsplabError("USAGE", `app name "${options.name}" must be letters, digits and dashes`);
  const cacheDir = options.cacheDir ?? cacheRoot();
  const root = path.join(cacheDir, "moddable-linux", hash(options.sdk.root).slice(0, 12));
  const modules: Record<string, string> = { main: "./main", "mc/config": "./mc-config", ...options.modules };
  const manifest = {
    include: [path.join(HOST_DIR, "manifest.json")],
    modules,
    preload: ["mc/config", ...(options.preload ?? [])],
    ...(options.creation ? { creation: options.creation } : {}),
  };
  const manifestText = `${JSON.stringify(manifest, null, "\t")}\n`;
  const hostSources = ["manifest.json", "main.c", "host.js"].map((f) => fs.readFileSync(path.join(HOST_DIR, f), "utf8")).join("\0");
  const appName = `${options.name}-${hash(manifestText + hostSources).slice(0, 10)}`;
  const appDir = path.join(root, "apps", appName);
  const outDir = path.join(root, "out");
  fs.mkdirSync(appDir, { recursive: true });
  fs.mkdirSync(outDir, { recursive: true });
  writeIfChanged(path.join(appDir, "manifest.json"), manifestText);
  writeIfChanged(path.join(appDir, "main.js"), fs.readFileSync(options.main, "utf8"));
  const config = { ...options.config, file: { root: "./" }, tls: { DHE_RSA: true, ECDHE_RSA: true } };
  writeIfChanged(path.join(appDir, "mc-config.js"), `export default Object.freeze(${JSON.stringify(config)}, true);\n`);
  const resources = path.join(appDir, "resources");
  fs.mkdirSync(resources, { recursive: true });
  for (const file of options.resources ?? []) writeIfChanged(path.join(resources, path.basename(file)), fs.readFileSync(file));

  const binary = path.join(outDir, "bin", "lin", "release", appName);
  const started = performance.now();
  const built = await withLock(path.join(root, "build.lock"), async () => {
    const before = fs.existsSync(binary) ? fs.statSync(binary).mtimeMs : undefined;
    await runMcconfig(options.sdk, appDir, outDir, options.log ?? (() => undefined));
    if (!fs.existsSync(binary)) throw new EsplabError("MODDABLE", `mcconfig finished but made no ${binary}`);
    return before !== fs.statSync(binary).mtimeMs;
  });
  return { binary, resources, built, buildMs: performance.now() - started };
}

/** Moddable's TLS root store as the device has it: the key-id index and the given `caN.der` files. */
export function rootStoreFiles(sdk: SdkTools, names: string[]): string[] {
  const data = path.join(sdk.root, "modules", "crypt", "data");
  return ["ca.ski", ...names.map((n) => `${n}.der`)].map((n) => path.join(data, n));
}

export interface RunOptions {
  args?: string[];
  /** Killed after this long (an unhandled rejection, for one, is reported only when its promise is collected). */
  timeoutMs: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Each line of the app's trace output as it comes. */
  onLine?: (line: string) => void;
}

export interface RunResult {
  /** The app's own exit(n), or 100 + XS's abort status (see linux/main.c); undefined when killed. */
  status: number | undefined;
  /** trace() output, line by line. */
  lines: string[];
  stderr: string;
  /** What `# xs abort: …` said, when the VM aborted. */
  abort?: string;
  timedOut: boolean;
}

/** Runs a built app and collects what it traced and how it ended. */
export function runLinuxApp(app: LinuxApp, options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(app.binary, options.args ?? [], {
      cwd: options.cwd ?? path.dirname(app.binary),
      env: { ...(options.env ?? process.env), ESPLAB_RESOURCES: app.resources },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: string[] = [];
    let partial = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        options.onLine?.(line);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const watchdog = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    child.on("error", (error) => {
      clearTimeout(watchdog);
      reject(new EsplabError("MODDABLE", `cannot run ${app.binary}: ${error.message}`, { cause: error }));
    });
    child.on("close", (code) => {
      clearTimeout(watchdog);
      if (partial) lines.push(partial);
      const abort = /^# xs abort: (.*)$/m.exec(stderr)?.[1];
      resolve({ status: code ?? undefined, lines, stderr, abort, timedOut });
    });
  });
}

/**
 * Bundles a TypeScript entry into one ES module for `main`: types stripped, relative imports inlined, every other
 * specifier (timer, embedded:*, esplab/host…) left for the Moddable manifest to map.
 */
export async function bundleModdableEntry(input: string, output: string): Promise<string> {
  const build = await rollup({
    input,
    external: (id) => !id.startsWith(".") && !path.isAbsolute(id),
    onwarn: (warning, warn) => (warning.code === "CIRCULAR_DEPENDENCY" ? undefined : warn(warning)),
    plugins: [
      {
        name: "strip-types",
        transform(code, id) {
          if (!id.endsWith(".ts")) return null;
          const out = ts.transpileModule(code, {
            fileName: id,
            compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true },
          });
          return { code: out.outputText, map: null };
        },
      },
    ],
  });
  try {
    const { output: chunks } = await build.generate({ format: "es" });
    fs.mkdirSync(path.dirname(output), { recursive: true });
    writeIfChanged(output, chunks[0].code);
    return output;
  } finally {
    await build.close();
  }
}

function runMcconfig(sdk: SdkTools, appDir: string, outDir: string, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, MODDABLE: sdk.root, PATH: `${sdk.bin}${path.delimiter}${process.env.PATH ?? ""}` };
    const child = spawn(path.join(sdk.bin, "mcconfig"), ["-m", "-p", "x-cli-lin", "-o", outDir, "manifest.json"], { cwd: appDir, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (error) => reject(new EsplabError("MODDABLE", `cannot run mcconfig in ${sdk.bin}: ${error.message}`, { cause: error })));
    child.on("close", (code) => {
      if (code === 0) return resolve();
      const tail = output
        .split("\n")
        .filter((line) => line && !/^# (xsc|xsid|cc|xsl modules)\b/.test(line))
        .slice(-20);
      tail.forEach((line) => log(line));
      reject(new EsplabError("MODDABLE", `mcconfig -p x-cli-lin failed (exit ${code}) for ${appDir}:\n${tail.join("\n")}\n(building for Linux needs gcc, make, pkgconf and libglib2.0-dev)`));
    });
  });
}

function hash(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex");
}

/** Writes only when the content differs, so make's date comparison sees exactly the files that changed. */
function writeIfChanged(file: string, content: string | Buffer): void {
  const next = typeof content === "string" ? Buffer.from(content) : content;
  if (fs.existsSync(file) && fs.readFileSync(file).equals(next)) return;
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, next);
  fs.renameSync(temp, file);
}

/** One builder at a time per output folder (other test workers, other processes); a dead holder's lock is taken over. */
async function withLock<T>(lock: string, work: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (!holderAlive(lock)) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await work();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function holderAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(lock, "pid"), "utf8"));
  } catch {
    // created but the pid not written yet, unless that was long ago (its maker died in between)
    try {
      return Date.now() - fs.statSync(lock).mtimeMs < 60_000;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
