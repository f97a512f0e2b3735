// Bundles the firmware. From the same sources:
//  - device: the firmware library (the module "esplab", preloaded into flash by Moddable's linker) and the tiny `main`
//    that starts it, as ES modules for mcconfig (named in manifest.json); Moddable module specifiers (timer,
//    preference, mc/config, embedded:*) and "esplab" itself stay external because the device provides them;
//  - xs: one script for the XS engine on the laptop (xsnap-worker), with the seams bridged to the host.
import typescript from "@rollup/plugin-typescript";

const isModdableModule = (id) => !id.startsWith(".") && !id.startsWith("/") && !id.startsWith("\0");

const compile = () =>
  typescript({
    tsconfig: "firmware/tsconfig.json",
    compilerOptions: {
      noEmit: false,
      allowImportingTsExtensions: true,
      rewriteRelativeImportExtensions: true,
      sourceMap: true,
    },
    noEmitOnError: true,
  });

export default [
  {
    input: "firmware/platform/moddable/firmware.ts",
    external: isModdableModule,
    output: { file: "dist/firmware/esplab.js", format: "es", sourcemap: true },
    plugins: [compile()],
  },
  {
    input: "firmware/platform/moddable/main.ts",
    external: isModdableModule,
    output: { file: "dist/firmware/main.js", format: "es", sourcemap: true },
    plugins: [compile()],
  },
  {
    input: "firmware/platform/xs/main.ts",
    output: { file: "dist/xs/firmware.js", format: "iife", sourcemap: true },
    plugins: [compile()],
  },
];
