import fs from "node:fs";
import path from "node:path";
import { LAB_WIRING } from "../board/lab-wiring.ts";
import { ESPLAB_ROOT, ProjectError } from "./project.ts";

const TEMPLATE = path.join(import.meta.dirname, "template");
/** Template files whose names npm would not publish as they are. */
const RENAMED: Record<string, string> = { gitignore: ".gitignore" };

export interface NewProjectOptions {
  /** The app's name (default: the folder's name, made into one). */
  app?: string;
  /** The package.json dependency on esplab (default: this checkout as file:, or this version when installed). */
  esplab?: string;
}

/**
 * Makes a student's project in `directory`, which must not exist or be empty (nothing a student wrote is ever
 * overwritten): package.json depending on esplab, an app, the lab board's wiring, a starter scenario, settings
 * without secrets, a .gitignore that keeps secrets out, a tsconfig for the editor and a README. Returns the files.
 */
export function createProject(directory: string, options: NewProjectOptions = {}): { root: string; app: string; files: string[] } {
  const root = path.resolve(directory);
  if (fs.existsSync(root)) {
    if (!fs.statSync(root).isDirectory()) throw new ProjectError("NEW", `${directory} is a file: pick a new folder name`);
    const present = fs.readdirSync(root).filter((name) => name !== ".git");
    if (present.length) throw new ProjectError("NEW", `${directory} is not empty (${present.slice(0, 3).join(", ")}${present.length > 3 ? ", …" : ""}): esplab new never overwrites files — pick a new folder name`);
  }
  const app = options.app ?? appNameFor(path.basename(root));
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/i.test(app)) {
    throw new ProjectError("NEW", `"${app}" cannot be an app name (1–64 letters, digits, "-" or "_"): give one with --app NAME`);
  }
  const name = packageNameFor(path.basename(root));
  const fill = (text: string) => text.replaceAll("__APP__", app).replaceAll("__NAME__", name).replaceAll("__ESPLAB_DOCS__", "https://github.com/esplab/esplab");

  const files: string[] = [];
  const write = (relative: string, text: string) => {
    const file = path.join(root, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { flag: "wx" }); // never replaces a file, even one that appeared meanwhile
    files.push(relative);
  };
  const pkg = {
    name,
    version: "0.1.0",
    private: true,
    type: "module",
    scripts: { start: "esplab lab", test: "esplab test", build: "esplab build --device esp32", flash: "esplab flash", monitor: "esplab monitor" },
    devDependencies: { esplab: options.esplab ?? esplabDependency() },
    // esplab's native pieces (the XS engine, SQLite) build from source when npm installs it.
    allowScripts: { "@agoric/xsnap": true, "better-sqlite3": true, esbuild: true, "@serialport/bindings-cpp": false },
    esplab: { app, sources: "src", wiring: "wiring.json", scenarios: "scenarios" },
  };
  write("package.json", `${JSON.stringify(pkg, null, 2)}\n`);
  const { name: _board, ...wiring } = LAB_WIRING;
  write("wiring.json", `${JSON.stringify({ name: `${name}'s board`, ...wiring }, null, 2)}\n`);
  // The settings are written here, not kept as a template file: git ignores every esplab.config.json, esplab's too.
  const settings = {
    "// your settings (git ignores this file): with no cloud keys here, npm start uses the local cloud; for a real Firebase project or broker see esplab's docs/firebase.md": "",
    device_id: "Device001",
  };
  write("esplab.config.json", `${JSON.stringify(settings, null, 2)}\n`);
  for (const relative of templateFiles()) {
    const target = path.join(path.dirname(relative), RENAMED[path.basename(relative)] ?? path.basename(relative));
    write(target, fill(fs.readFileSync(path.join(TEMPLATE, relative), "utf8")));
  }
  return { root, app, files };
}

/** How the project depends on esplab: this checkout (file:) unless esplab runs from an installed package. */
function esplabDependency(): string {
  const installed = ESPLAB_ROOT.split(path.sep).includes("node_modules");
  if (!installed) return `file:${ESPLAB_ROOT}`;
  const { version } = JSON.parse(fs.readFileSync(path.join(ESPLAB_ROOT, "package.json"), "utf8")) as { version: string };
  return `^${version}`;
}

function templateFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(TEMPLATE, dir), { withFileTypes: true })) {
      const relative = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(relative);
      else files.push(relative);
    }
  };
  walk("");
  return files.sort();
}

/** "My A2!" → "my-a2": what a folder name becomes as an app name. */
export function appNameFor(folder: string): string {
  const name = folder.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^[-_]+|[-_]+$/g, "").slice(0, 64);
  return name || "my-app";
}

/** npm's rules for a package name: lower case, URL-safe, at most 214 characters. */
function packageNameFor(folder: string): string {
  return appNameFor(folder).replace(/_/g, "-") || "my-esp32-app";
}
