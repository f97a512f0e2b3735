import fs from "node:fs";
import path from "node:path";
import { rollup, type MergedRollupOptions } from "rollup";
import { loadConfigFile } from "rollup/loadConfigFile";
import { EsplabError } from "../../firmware/core/errors.ts";

export type BundleTarget = "device" | "xs";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** The rollup inputs of each target: the device has the firmware library and its `main`. */
const INPUTS: Record<BundleTarget, string[]> = {
  device: ["firmware/platform/moddable/firmware.ts", "firmware/platform/moddable/main.ts"],
  xs: ["firmware/platform/xs/main.ts"],
};

/**
 * Builds a target's bundles with rollup.config.mjs (the same build `npm run build` runs); returns the file of its
 * first input (the device's firmware library, or the XS script).
 */
export async function buildFirmwareBundle(target: BundleTarget): Promise<string> {
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const { options, warnings } = await loadConfigFile(path.join(ROOT, "rollup.config.mjs"), {}, true);
    warnings.flush();
    const files: string[] = [];
    for (const input of INPUTS[target]) {
      const config = options.find((o) => o.input === input);
      if (!config) throw new EsplabError("BUILD", `rollup.config.mjs has no build for ${input}`);
      files.push(await bundleOne(config));
    }
    return files[0]!;
  } catch (error) {
    if (error instanceof EsplabError) throw error;
    throw new EsplabError("BUILD", `the firmware does not build: ${(error as Error).message}`, { cause: error });
  } finally {
    process.chdir(cwd);
  }
}

async function bundleOne(config: MergedRollupOptions): Promise<string> {
  const bundle = await rollup(config);
  try {
    for (const output of config.output) {
      const { output: chunks } = await bundle.generate(output);
      const file = path.join(ROOT, output.file!);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      for (const chunk of chunks) {
        if (chunk.type !== "chunk") continue;
        const map = chunk.map ? `${chunk.map.toString()}` : undefined;
        const code = map ? `${chunk.code}\n//# sourceMappingURL=${path.basename(file)}.map\n` : chunk.code;
        if (map) writeAtomically(`${file}.map`, map);
        writeAtomically(file, code);
      }
    }
  } finally {
    await bundle.close();
  }
  return path.join(ROOT, config.output[0]!.file!);
}

/** Other builds may read the bundle while this one writes it: replace it whole. */
function writeAtomically(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, text);
  fs.renameSync(temp, file);
}
