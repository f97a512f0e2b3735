import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import typescriptPlugin from "@rollup/plugin-typescript";
import ts from "typescript";
import { rollup, type InputOptions, type OutputOptions, type Plugin, type RollupLog } from "rollup";
import { ESPLAB_ROOT, esplabProject, type Project } from "../project/project.ts";
import { describeBuildFailure } from "./build-errors.ts";

export { BuildError, type BuildProblem } from "./build-errors.ts";

export type BundleTarget = "device" | "xs";

// The plugin's types describe its CommonJS build; Node loads its ES build, whose default export is the plugin itself.
const typescript = typescriptPlugin as unknown as typeof typescriptPlugin.default;

/** esplab's firmware library, which a student's project builds on. */
const LIBRARY = path.join(ESPLAB_ROOT, "firmware");
const ENTRY = "\0esplab-entry";

/** What one rollup run makes: an entry (the project's apps and a platform module) and one output file. */
interface BundlePlan {
  entry: string;
  file: string;
  format: "es" | "iife";
  /** Module specifiers the device provides (Moddable's, and the preloaded library "esplab"). */
  external: boolean;
}

/** The modules each target is made of: the apps the project registers, beside the platform's own entry. */
function plansFor(target: BundleTarget, project: Project): BundlePlan[] {
  // esplab's own tree (or a copy of it) builds its own platform entries; a student's project builds esplab's.
  const firmware = project.builtIn ? project.sourceDir : LIBRARY;
  const apps = project.builtIn ? project.apps.map((app) => app.file) : [path.join(firmware, "apps/board-check.ts"), ...project.apps.map((app) => app.file)];
  const imports = apps.map((file) => `import ${JSON.stringify(file)};`).join("\n");
  if (target === "xs") {
    return [{ entry: `${imports}\nimport ${JSON.stringify(path.join(firmware, "platform/xs/main.ts"))};\n`, file: path.join(project.bundleDir, "xs/firmware.js"), format: "iife", external: false }];
  }
  return [
    // The library "esplab" (preloaded into flash by Moddable's linker) holds every app; `main` only starts it.
    {
      entry: `${imports}\nexport { startDevice } from ${JSON.stringify(path.join(firmware, "platform/moddable/firmware.ts"))};\n`,
      file: path.join(project.bundleDir, "firmware/esplab.js"),
      format: "es",
      external: true,
    },
    { entry: `export * from ${JSON.stringify(path.join(firmware, "platform/moddable/main.ts"))};\n`, file: path.join(project.bundleDir, "firmware/main.js"), format: "es", external: true },
  ];
}

/**
 * Bundles a project's firmware for a target, type-checking it against Moddable's types first (as device code: no
 * Node, no DOM): `device` makes the ES modules mcconfig links (bundleDir/firmware/esplab.js and main.js), `xs` the
 * script the XS engine on the laptop runs (bundleDir/xs/firmware.js). Returns the first file. A failure is a
 * BuildError naming the file, line and fix.
 */
export async function buildFirmwareBundle(target: BundleTarget, project: Project = esplabProject()): Promise<string> {
  const tsconfig = project.builtIn ? path.join(project.sourceDir, "tsconfig.json") : writeProjectTsconfig(project, target);
  const files: string[] = [];
  for (const plan of plansFor(target, project)) files.push(await bundleOne(plan, tsconfig, project));
  return files[0]!;
}

async function bundleOne(plan: BundlePlan, tsconfig: string, project: Project): Promise<string> {
  let unresolved: RollupLog | undefined;
  const typeErrors: RollupLog[] = [];
  const input: InputOptions = {
    input: ENTRY,
    external: plan.external ? isDeviceModule : undefined,
    plugins: [
      entryModule(plan.entry),
      compilerPlugin(plan.file, tsconfig),
    ],
    onLog(level, log, handler) {
      if (log.code === "UNRESOLVED_IMPORT") unresolved ??= log;
      else if (level === "warn" && log.plugin === "typescript") typeErrors.push(log);
      else if (level !== "debug") handler(level, log);
    },
  };
  let bundle;
  try {
    bundle = await rollup(input);
  } catch (error) {
    // TypeScript's diagnostics name the cause; rollup's parser, meeting the broken output, only its echo.
    throw typeErrors.length ? describeBuildFailure(typeErrors[0], project, typeErrors.slice(1)) : describeBuildFailure(error, project, typeErrors);
  }
  try {
    if (typeErrors.length) throw describeBuildFailure(typeErrors[0], project, typeErrors.slice(1));
    if (unresolved) throw describeBuildFailure(unresolved, project);
    const output: OutputOptions = { file: plan.file, format: plan.format, sourcemap: true };
    const { output: chunks } = await bundle.generate(output);
    fs.mkdirSync(path.dirname(plan.file), { recursive: true });
    for (const chunk of chunks) {
      if (chunk.type !== "chunk") continue;
      const map = chunk.map?.toString();
      if (map) writeAtomically(`${plan.file}.map`, map);
      writeAtomically(plan.file, map ? `${chunk.code}\n//# sourceMappingURL=${path.basename(plan.file)}.map\n` : chunk.code);
    }
  } finally {
    await bundle.close();
  }
  return plan.file;
}

/**
 * The TypeScript plugin of one output, kept for the process: each build starts from the previous build's program (and
 * the plugin keeps the output of the files a change does not touch), so a save re-checks and re-emits only the files
 * it affects. Its TypeScript watches no files: the plugin checks with a watch program, and watchers left behind by
 * a failed build would keep the process alive and report the next edit's errors by throwing outside any build.
 */
const plugins = new Map<string, Plugin>();
const unwatched = () => ({ close() {} });
function compilerPlugin(output: string, tsconfig: string): Plugin {
  const key = `${output}|${tsconfig}`;
  let plugin = plugins.get(key);
  if (!plugin) {
    let previous: ts.EmitAndSemanticDiagnosticsBuilderProgram | undefined;
    const compiler = Object.create(ts, {
      sys: { value: { ...ts.sys, watchFile: unwatched, watchDirectory: unwatched } },
      createEmitAndSemanticDiagnosticsBuilderProgram: {
        value: (...args: unknown[]) => {
          args[3] ??= previous; // the old program, when the plugin has none of its own
          previous = (ts.createEmitAndSemanticDiagnosticsBuilderProgram as (...given: unknown[]) => ts.EmitAndSemanticDiagnosticsBuilderProgram)(...args);
          return previous;
        },
      },
    }) as typeof ts;
    plugin = typescript({
      typescript: compiler,
      tsconfig,
      // Sources live in the project and in esplab (maybe in node_modules): match them wherever they are.
      include: ["**/*.ts"],
      filterRoot: false,
      compilerOptions: { noEmit: false, allowImportingTsExtensions: true, rewriteRelativeImportExtensions: true, sourceMap: true },
      // Type errors are collected and thrown once rollup is done, all of them.
      noEmitOnError: false,
    });
    plugins.set(key, plugin);
  }
  return plugin;
}

/** Module specifiers the device resolves itself: Moddable's (timer, embedded:io/…, mc/config) and "esplab". */
function isDeviceModule(id: string): boolean {
  if (id.startsWith(".") || path.isAbsolute(id) || id.startsWith("\0")) return false;
  return id !== "esplab/firmware" && !id.startsWith("esplab/firmware/");
}

function entryModule(code: string): Plugin {
  return {
    name: "esplab-entry",
    resolveId: (id) => (id === ENTRY ? ENTRY : null),
    load: (id) => (id === ENTRY ? code : null),
  };
}

/**
 * The type check of a student's project, written where its bundles go: esplab's firmware compiler options (strict,
 * ES2023 only, Moddable's typings) over the project's sources, with "esplab/firmware" meaning the esplab that builds.
 * The student's own tsconfig.json (for the editor) cannot loosen it.
 */
function writeProjectTsconfig(project: Project, target: BundleTarget): string {
  const typings = path.dirname(createRequire(path.join(ESPLAB_ROOT, "package.json")).resolve("@moddable/typings/package.json"));
  const platformEntry = path.join(LIBRARY, target === "xs" ? "platform/xs/main.ts" : "platform/moddable/firmware.ts");
  const config = {
    extends: path.join(LIBRARY, "tsconfig.json"),
    compilerOptions: {
      paths: { esplab: [path.join(LIBRARY, "platform/moddable/firmware.ts")], "esplab/firmware": [path.join(LIBRARY, "index.ts")] },
    },
    // The entry imports these directly, so they must be in the program to be compiled (the rest follow imports).
    files: [platformEntry, path.join(LIBRARY, "apps/board-check.ts")],
    include: [path.join(project.sourceDir, "**/*.ts"), path.join(LIBRARY, "**/*.d.ts"), path.join(typings, "**/*.d.ts")],
    exclude: ["piu", "commodetto", "mcpack.d.ts"].map((name) => path.join(typings, name)).concat(path.join(project.sourceDir, "**/node_modules")),
  };
  const file = path.join(project.bundleDir, `tsconfig.${target}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeAtomically(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/** Other builds may read the bundle while this one writes it: replace it whole. */
function writeAtomically(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, text);
  fs.renameSync(temp, file);
}

