import path from "node:path";
import { EsplabError } from "../../firmware/core/errors.ts";
import type { Project } from "../project/project.ts";

/** Where and why a build failed, as plain data (it crosses from the build's worker thread to the lab's page). */
export interface BuildProblem {
  /** One line: "src/app.ts:12:5 TS1005: ';' expected." (paths relative to the project). */
  message: string;
  file?: string;
  line?: number;
  /** From 1. */
  column?: number;
  /** The source lines around the error, with a marker under it. */
  frame?: string;
  /** What the firmware uses instead of what it reached for (console → platform.log, …). */
  hint?: string;
  /** The other errors of the same build, one line each. */
  more?: string[];
}

/** The firmware does not build: a syntax or type error (with its place) or an import that does not resolve. */
export class BuildError extends EsplabError {
  readonly problem: BuildProblem;

  constructor(problem: BuildProblem, options: { cause?: unknown } = {}) {
    const more = problem.more ?? [];
    const shown = more.slice(0, MORE_SHOWN).map((line) => `\n  also ${line}`).join("") + (more.length > MORE_SHOWN ? `\n  … and ${more.length - MORE_SHOWN} more` : "");
    const frame = problem.frame ? `\n${problem.frame.split("\n").map((line) => `    ${line}`).join("\n")}` : "";
    super("BUILD", `the firmware does not build: ${problem.message}${problem.hint ? `\n  ${problem.hint}` : ""}${frame}${shown}`, options);
    this.problem = problem;
  }
}

interface RollupFailure {
  message?: string;
  code?: string;
  plugin?: string;
  pluginCode?: string;
  loc?: { file?: string; line: number; column: number };
  frame?: string;
  id?: string;
  exporter?: string;
}

const MORE_SHOWN = 5;
/** Terminal colour codes, which TypeScript puts in its code frames. */
const ANSI = /\x1b\[[0-9;]*m/g;

/** Names that exist in Node or a browser but not on the ESP32, and what a firmware uses instead. */
const NOT_ON_THE_DEVICE: Record<string, string> = {
  console: "the ESP32 has no console: log with platform.log(…) (it reaches the serial monitor and the lab's console)",
  setTimeout: "use platform.clock.setTimeout(…) (timers go through the Clock seam, so scenarios control time)",
  setInterval: "use platform.clock.setInterval(…) (timers go through the Clock seam, so scenarios control time)",
  clearTimeout: "use platform.clock.clear(handle)",
  clearInterval: "use platform.clock.clear(handle)",
  fetch: 'the firmware reaches the network through platform.transport; for Firebase use openFirebase(…) from "esplab/firmware"',
  process: "process is Node's; the settings come in the config an app is given (config.values)",
  require: 'use import … from "esplab/firmware"',
  Buffer: 'Buffer is Node\'s: use Uint8Array, and utf8Encode/utf8Decode from "esplab/firmware"',
  window: "window is a browser's; the firmware runs on the ESP32",
  document: "document is a browser's; the firmware runs on the ESP32",
  localStorage: "use platform.storage (Moddable's Preference on the device)",
};

/** Turns what rollup or its TypeScript plugin threw (or warned) into a BuildError that says what to do. */
export function describeBuildFailure(error: unknown, project: Project, more: unknown[] = []): BuildError {
  if (error instanceof BuildError) return error;
  const shown = (file: string) => (path.isAbsolute(file) ? path.relative(project.root, file) || file : file);
  const failure = (error ?? {}) as RollupFailure;
  const others = more.filter((entry) => entry !== error).map((entry) => describe(entry as RollupFailure, shown).message);
  if (failure.code === "UNRESOLVED_IMPORT" && failure.exporter) {
    const importer = failure.id ? shown(failure.id) : "the firmware";
    const hint = /^(node:|fs$|path$|os$|http$|https$|net$|child_process$)/.test(failure.exporter)
      ? "that is a Node module; the firmware runs on the ESP32 and reaches the world through the Platform it is given"
      : failure.exporter.startsWith(".") || failure.exporter.startsWith("/")
        ? "check the path (relative imports name the file with its .ts extension)"
        : `the virtual board has no module "${failure.exporter}": import esplab's library from "esplab/firmware", and reach hardware, time and storage through the Platform an app is given`;
    return new BuildError({ message: `${importer} imports "${failure.exporter}", which does not resolve`, file: failure.id, hint, more: others }, { cause: error });
  }
  return new BuildError({ ...describe(failure, shown), more: others }, { cause: error });
}

function describe(failure: RollupFailure, shown: (file: string) => string): BuildProblem {
  let text = String(failure.message ?? failure).replace(ANSI, "").replace(/^\[plugin [^\]]+\]\s*/, "").replace(/^\S+ \(\d+:\d+\):\s*/, "").replace(/^@rollup\/plugin-typescript\s*/, "");
  if (failure.pluginCode && !text.startsWith(failure.pluginCode)) text = `${failure.pluginCode}: ${text}`;
  text = text.split("\n")[0]!;
  // The TypeScript plugin counts columns from 1, rollup's own parser from 0.
  const column = failure.loc?.column === undefined ? undefined : failure.loc.column + (failure.plugin === "typescript" ? 0 : 1);
  const file = failure.loc?.file ?? failure.id;
  const where = file ? `${shown(file)}${failure.loc?.line ? `:${failure.loc.line}:${column ?? 1}` : ""} ` : "";
  const missing = /Cannot find name '([A-Za-z_$][\w$]*)'/.exec(text)?.[1];
  return {
    message: `${where}${text}`,
    file,
    line: failure.loc?.line,
    column,
    frame: failure.frame ? failure.frame.replace(ANSI, "").replace(/^\n+|\s+$/g, "") : undefined,
    hint: missing && Object.hasOwn(NOT_ON_THE_DEVICE, missing) ? NOT_ON_THE_DEVICE[missing] : undefined,
  };
}
