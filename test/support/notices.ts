import { findModdable, moddableProblem } from "../../host-tools/moddable/sdk.ts";

/** Vitest global setup: what the whole run skips, said once rather than by every test file. */
export default function setup(): void {
  if (!findModdable()) {
    console.warn(`\n  NOTICE: the tests on Moddable's own tools and runtime are skipped: ${moddableProblem()}\n`);
  }
}
