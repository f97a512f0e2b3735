// Bundles the firmware into one JavaScript module for Moddable's mcconfig (named in manifest.json).
// Moddable module specifiers (timer, preference, mc/config, embedded:*, pins/*) stay external: the device provides them.
import typescript from "@rollup/plugin-typescript";

const isModdableModule = (id) => !id.startsWith(".") && !id.startsWith("/") && !id.startsWith("\0");

export default {
  input: "firmware/platform/moddable/main.ts",
  external: isModdableModule,
  output: {
    file: "dist/firmware/main.js",
    format: "es",
    sourcemap: true,
  },
  plugins: [
    typescript({
      tsconfig: "firmware/tsconfig.json",
      include: ["firmware/**/*.ts"],
      compilerOptions: {
        noEmit: false,
        allowImportingTsExtensions: true,
        rewriteRelativeImportExtensions: true,
        sourceMap: true,
      },
      noEmitOnError: true,
    }),
  ],
};
