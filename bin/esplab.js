#!/usr/bin/env node
// The `esplab` command: runs the TypeScript CLI through tsx so no build step stands between a clone and a run.
import { register } from "tsx/esm/api";

// Output piped into a reader that stops early (esplab … | head) is not a failure of the command.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

register();
const { main } = await import("../host-tools/cli.ts");
process.exitCode = await main(process.argv.slice(2));
