import fs from "node:fs";
import path from "node:path";
import { UsageError } from "../../firmware/core/errors.ts";
import { findApps, type AppRegistration } from "./app-scan.ts";

/** esplab's own checkout: its apps, lab wiring and scenarios are the built-in project. */
export const ESPLAB_ROOT = path.resolve(import.meta.dirname, "../..");

/** A project is wrong (its package.json section, its sources, its apps): the message names the file and the fix. */
export class ProjectError extends UsageError {}

/**
 * Where a firmware lives and what it is made of: a student's project (a folder whose package.json has an "esplab"
 * section, made by `esplab new`), or esplab's own checkout with the course's reference apps.
 */
export interface Project {
  root: string;
  name: string;
  /** esplab's own checkout (its apps are firmware/apps/all.ts). */
  builtIn: boolean;
  /** The firmware sources: every .ts file under it is the project's, type-checked as device code. */
  sourceDir: string;
  /** The files that register apps, each with the names it registers. */
  apps: AppRegistration[];
  /** The app to run unless the config or --app says otherwise. */
  defaultApp: string | undefined;
  /** The wiring file (esplab's JSON/YAML board description, or a Wokwi diagram.json); none: the lab's board. */
  wiringFile: string | undefined;
  scenarioDir: string;
  /** Where bundles go (the XS script and the device's modules). */
  bundleDir: string;
  /** Where `esplab build --device` puts mcconfig's output. */
  deviceBuildDir: string;
  /** The lab's database, readings and device storage. */
  stateDir: string;
  /** The user's settings (secrets included; never committed). */
  configFile: string;
}

/** The "esplab" section of a project's package.json. */
interface ProjectSection {
  app?: unknown;
  sources?: unknown;
  wiring?: unknown;
  scenarios?: unknown;
}

const SECTION_KEYS = ["app", "sources", "wiring", "scenarios"];

/** esplab's own checkout as a project (or, for tests that edit it, a copy of its tree at `root`). */
export function esplabProject(root = ESPLAB_ROOT): Project {
  return {
    root,
    name: "esplab",
    builtIn: true,
    sourceDir: path.join(root, "firmware"),
    apps: [{ file: path.join(root, "firmware/apps/all.ts"), names: [], line: 1 }],
    defaultApp: "assignment2",
    wiringFile: undefined,
    scenarioDir: path.join(root, "test/scenarios"),
    bundleDir: path.join(root, "dist"),
    deviceBuildDir: path.join(root, "build/device"),
    stateDir: path.join(root, ".esplab"),
    configFile: path.join(root, "esplab.config.json"),
  };
}

/**
 * The project a command run in `directory` works on: the nearest folder upwards whose package.json has an "esplab"
 * section; else esplab's own checkout (a command run inside it, or anywhere without a project).
 */
export function findProject(directory: string = process.cwd()): Project {
  for (let dir = path.resolve(directory); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest)) {
      if (path.resolve(dir) === ESPLAB_ROOT) return esplabProject();
      const pkg = readPackageJson(manifest);
      if (pkg.esplab !== undefined) return loadProject(dir);
    }
    if (path.dirname(dir) === dir) return esplabProject();
  }
}

/** The project in `root` (its package.json must have an "esplab" section); checks it whole. */
export function loadProject(root: string): Project {
  root = path.resolve(root);
  if (root === ESPLAB_ROOT) return esplabProject();
  const manifest = path.join(root, "package.json");
  if (!fs.existsSync(manifest)) throw new ProjectError("PROJECT", `${root} is not an esplab project: it has no package.json (make one with: npx esplab new <folder>)`);
  const pkg = readPackageJson(manifest);
  const section = pkg.esplab as ProjectSection | undefined;
  if (!section || typeof section !== "object" || Array.isArray(section)) {
    throw new ProjectError("PROJECT", `${manifest} has no "esplab" section: add "esplab": { "app": "<name>", "sources": "src", "wiring": "wiring.json" } (npx esplab new writes one)`);
  }
  const problems: string[] = [];
  for (const key of Object.keys(section)) if (!SECTION_KEYS.includes(key)) problems.push(`unknown key "${key}" (known: ${SECTION_KEYS.join(", ")})`);
  const text = (key: keyof ProjectSection, fallback: string | undefined) => {
    const value = section[key];
    if (value === undefined) return fallback;
    if (typeof value !== "string" || value.trim() === "") {
      problems.push(`"${key}" must be a non-empty string, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return value;
  };
  const inside = (key: string, relative: string) => {
    const resolved = path.resolve(root, relative);
    if (path.relative(root, resolved).startsWith("..")) problems.push(`"${key}" (${relative}) must be inside the project folder`);
    return resolved;
  };
  const sourceDir = inside("sources", text("sources", "src")!);
  const wiring = text("wiring", undefined);
  const wiringFile = wiring === undefined ? undefined : inside("wiring", wiring);
  const scenarioDir = inside("scenarios", text("scenarios", "scenarios")!);
  const defaultApp = text("app", undefined);
  if (problems.length) throw new ProjectError("PROJECT", `${manifest}, section "esplab":\n  - ${problems.join("\n  - ")}`);

  if (!fs.existsSync(sourceDir) || !fs.statSync(sourceDir).isDirectory()) {
    throw new ProjectError("PROJECT", `the firmware sources folder ${path.relative(root, sourceDir) || "."} does not exist: create it with your app in it, or set "sources" in ${manifest}`);
  }
  if (wiringFile && !fs.existsSync(wiringFile)) {
    throw new ProjectError("PROJECT", `the wiring file ${path.relative(root, wiringFile)} named in ${manifest} does not exist: create it (npx esplab wiring --help shows the format) or remove "wiring" to use the lab's board`);
  }
  const apps = findApps(sourceDir);
  checkApps(apps, root, sourceDir, defaultApp, manifest);
  return {
    root,
    name: typeof pkg.name === "string" ? pkg.name : path.basename(root),
    builtIn: false,
    sourceDir,
    apps,
    defaultApp: defaultApp ?? (apps.length === 1 && apps[0]!.names.length === 1 ? apps[0]!.names[0] : undefined),
    wiringFile,
    scenarioDir,
    bundleDir: path.join(root, "build"),
    deviceBuildDir: path.join(root, "build/device"),
    stateDir: path.join(root, ".esplab"),
    configFile: path.join(root, "esplab.config.json"),
  };
}

/** The names of every app the project registers (empty for esplab's own, whose names are known only at run time). */
export function appNamesOf(project: Project): string[] {
  return project.apps.flatMap((app) => app.names);
}

/**
 * The app a run starts: the config's (or --app's), which must be one the project registers, else the project's
 * default. Checked before anything is built, so a wrong name costs a sentence, not a build.
 */
export function chooseApp(project: Project, requested: string | undefined): string {
  const names = appNamesOf(project);
  const app = requested ?? project.defaultApp;
  if (project.builtIn) return app ?? "assignment2";
  if (app === undefined) {
    throw new ProjectError("PROJECT", `${project.name} registers ${names.length} apps (${names.join(", ")}): say which to run with "app" in package.json's "esplab" section, or --app NAME`);
  }
  if (!names.includes(app) && app !== "board-check") {
    throw new ProjectError("PROJECT", `app "${app}" does not exist in ${project.name} — it registers ${names.map((name) => `"${name}"`).join(", ")} (and esplab's "board-check"); register it with registerApp("${app}", …) in a file under ${path.relative(project.root, project.sourceDir) || "."}/, or pick one of those`);
  }
  return app;
}

function checkApps(apps: AppRegistration[], root: string, sourceDir: string, defaultApp: string | undefined, manifest: string): void {
  const where = (app: AppRegistration) => `${path.relative(root, app.file)}:${app.line}`;
  if (apps.length === 0) {
    throw new ProjectError(
      "PROJECT",
      `no file under ${path.relative(root, sourceDir) || "."}/ registers an app: add registerApp("my-app", (platform, config) => …) (import it from "esplab/firmware"; see docs/write-your-own-app.md)`,
    );
  }
  const seen = new Map<string, AppRegistration>();
  for (const app of apps) {
    for (const name of app.names) {
      if (name === "board-check") throw new ProjectError("PROJECT", `${where(app)} registers "board-check", the name of esplab's own board test: give your app another name`);
      const first = seen.get(name);
      if (first) throw new ProjectError("PROJECT", `two apps are registered as "${name}": ${where(first)} and ${where(app)} — give each app its own name`);
      seen.set(name, app);
    }
  }
  if (defaultApp !== undefined && !seen.has(defaultApp) && defaultApp !== "board-check") {
    throw new ProjectError("PROJECT", `${manifest} says "app": "${defaultApp}", but the project registers ${[...seen.keys()].map((name) => `"${name}"`).join(", ")}: fix the name in one of the two`);
  }
}

function readPackageJson(file: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch (error) {
    throw new ProjectError("PROJECT", `${file} is not valid JSON (${(error as Error).message}): fix it`);
  }
  throw new ProjectError("PROJECT", `${file} must hold a JSON object`);
}
