import path from "node:path";
import { EsplabError } from "../../firmware/core/errors.ts";
import type { Project } from "../project/project.ts";

/** Where a build failed, for a terminal line and for the lab page. */
export interface BuildLocation {
  file: string;
  line: number;
  column: number;
}

/** The firmware does not build: the message names the file, line and fix; `frame` shows the code around it. */
export class FirmwareBuildError extends EsplabError {
  readonly location: BuildLocation | undefined;
  readonly frame: string | undefined;

  constructor(message: string, details: { location?: BuildLocation; frame?: string; cause?: unknown } = {}) {
    super("BUILD", message, { cause: details.cause });
    this.location = details.location;
    this.frame = details.frame;
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

/** Names that exist in Node or a browser but not on the ESP32, and what a firmware uses instead. */
const NOT_ON_THE_DEVICE: Record<string, string> = {
  console: "the ESP32 has no console: log with platform.log(…) (it reaches the serial monitor and the lab's console)",
  setTimeout: "use platform.clock.setTimeout(…) (timers go through the Clock seam, so scenarios control time)",
  setInterval: "use platform.clock.setInterval(…) (timers go through the Clock seam, so scenarios control time)",
  clearTimeout: "use platform.clock.clear(handle)",
  clearInterval: "use platform.clock.clear(handle)",
  fetch: "the firmware reaches the network through platform.transport; for Firebase use openFirebase(…) from \"esplab/firmware\"",
  process: "process is Node's; the settings come in the config an app is given (config.values)",
  require: "use import … from \"esplab/firmware\"",
  Buffer: "Buffer is Node's: use Uint8Array, and utf8Encode/utf8Decode from \"esplab/firmware\"",
  window: "window is a browser's; the firmware runs on the ESP32",
  document: "document is a browser's; the firmware runs on the ESP32",
  localStorage: "use platform.storage (Moddable's Preference on the device)",
};

/** Turns what rollup or the TypeScript plugin threw into a FirmwareBuildError that says what to do. */
export function describeBuildFailure(error: unknown, project: Project, more: unknown[] = []): FirmwareBuildError {
  if (error instanceof FirmwareBuildError) return error;
  const failure = (error ?? {}) as RollupFailure;
  const shown = (file: string) => (path.isAbsolute(file) ? path.relative(project.root, file) || file : file);
  const others = more.filter((entry) => entry !== error).map((entry) => `\n  also ${oneLine(entry as RollupFailure, shown)}`);
  const extra = others.slice(0, MORE_SHOWN).join("") + (others.length > MORE_SHOWN ? `\n  … and ${others.length - MORE_SHOWN} more` : "");

  if (failure.code === "UNRESOLVED_IMPORT" && failure.exporter) {
    const importer = failure.id ? shown(failure.id) : "the firmware";
    const hint = /^(node:|fs$|path$|os$|http$|https$|net$|child_process$)/.test(failure.exporter)
      ? "that is a Node module; the firmware runs on the ESP32 and reaches the world through the Platform it is given"
      : failure.exporter.startsWith(".") || failure.exporter.startsWith("/")
        ? "check the path (relative imports name the file with its .ts extension)"
        : `the virtual board has no module "${failure.exporter}": import esplab's library from "esplab/firmware", and reach hardware, time and storage through the Platform an app is given`;
    return new FirmwareBuildError(`${importer} imports "${failure.exporter}", which does not resolve: ${hint}`, { cause: error });
  }

  const location = failure.loc?.file ? { file: failure.loc.file, line: failure.loc.line, column: failure.loc.column } : undefined;
  const text = diagnosticText(failure, error);
  const missing = /Cannot find name '([A-Za-z_$][\w$]*)'/.exec(text)?.[1];
  const hint = missing ? NOT_ON_THE_DEVICE[missing] : undefined;
  const frame = failure.frame?.replace(ANSI, "").replace(/\s+$/, "").replace(/^\s*\n/, "");
  const message = `the firmware does not build: ${oneLine(failure, shown, error)}${hint ? `\n  ${hint}` : ""}${frame ? `\n${frame.split("\n").map((line) => `    ${line}`).join("\n")}` : ""}${extra}`;
  return new FirmwareBuildError(message, { location, frame, cause: error });
}

const MORE_SHOWN = 5;
/** Terminal colour codes, which TypeScript puts in its code frames. */
const ANSI = /\x1b\[[0-9;]*m/g;

/** "src/app.ts:3:5: TS2304: Cannot find name 'console'." */
function oneLine(failure: RollupFailure, shown: (file: string) => string, error: unknown = failure): string {
  const where = failure.loc?.file ? `${shown(failure.loc.file)}:${failure.loc.line}:${failure.loc.column + 1}: ` : "";
  return `${where}${diagnosticText(failure, error)}`;
}

function diagnosticText(failure: RollupFailure, error: unknown): string {
  let text = (failure.message ?? String(error)).replace(ANSI, "").replace(/^\[plugin [^\]]+\]\s*/, "").replace(/^.*?@rollup\/plugin-typescript\s*/, "");
  if (failure.pluginCode && !text.startsWith(failure.pluginCode)) text = `${failure.pluginCode}: ${text}`;
  return text.split("\n")[0]!;
}
