import { rollup } from "rollup";
import ts from "typescript";

/**
 * Bundles a test's script (which imports firmware modules by absolute path) into one plain script for
 * xsnap-worker's evaluate: types stripped, no module syntax left.
 */
export async function bundleXsScript(source: string): Promise<string> {
  const build = await rollup({
    input: "scenario",
    onwarn: () => {},
    plugins: [
      { name: "scenario", resolveId: (id) => (id === "scenario" ? id : null), load: (id) => (id === "scenario" ? source : null) },
      {
        name: "strip-types",
        transform(code, id) {
          if (!id.endsWith(".ts")) return null;
          return ts.transpileModule(code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true } }).outputText;
        },
      },
    ],
  });
  const { output } = await build.generate({ format: "iife" });
  await build.close();
  return output[0].code;
}
