import path from "node:path";
import { rollup } from "rollup";
import { loadConfigFile } from "rollup/loadConfigFile";
import { EsplabError } from "../../firmware/core/errors.ts";

export type BundleTarget = "device" | "xs";

const ROOT = path.resolve(import.meta.dirname, "../..");
const INPUTS: Record<BundleTarget, string> = {
  device: "firmware/platform/moddable/main.ts",
  xs: "firmware/platform/xs/main.ts",
};

/** Builds a firmware bundle with rollup.config.mjs (the same build `npm run build` runs); returns the output file. */
export async function buildFirmwareBundle(target: BundleTarget): Promise<string> {
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const { options, warnings } = await loadConfigFile(path.join(ROOT, "rollup.config.mjs"), {}, true);
    warnings.flush();
    const config = options.find((o) => o.input === INPUTS[target] || (Array.isArray(o.input) && o.input.includes(INPUTS[target])));
    if (!config) throw new EsplabError("BUILD", `rollup.config.mjs has no build for ${INPUTS[target]}`);
    const bundle = await rollup(config);
    try {
      for (const output of config.output) await bundle.write(output);
    } finally {
      await bundle.close();
    }
    return path.join(ROOT, config.output[0]!.file!);
  } catch (error) {
    if (error instanceof EsplabError) throw error;
    throw new EsplabError("BUILD", `the firmware does not build: ${(error as Error).message}`, { cause: error });
  } finally {
    process.chdir(cwd);
  }
}
