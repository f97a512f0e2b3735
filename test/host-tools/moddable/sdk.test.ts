import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findModdable, moddableProblem, setupModdable } from "../../../host-tools/moddable/sdk.ts";

const HOST = process.platform === "darwin" ? "mac" : "lin";
const scratch = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `esplab-sdk-${name}-`));

/** A folder laid out like an SDK whose tools are built (empty files stand in for the binaries). */
function fakeSdk(root: string, version: string): string {
  fs.mkdirSync(path.join(root, "tools"), { recursive: true });
  fs.writeFileSync(path.join(root, "tools", "VERSION"), `${version}\n`);
  const bin = path.join(root, "build", "bin", HOST, "release");
  fs.mkdirSync(bin, { recursive: true });
  for (const tool of ["mcconfig", "mcrez", "xsc", "xsl"]) fs.writeFileSync(path.join(bin, tool), "");
  return root;
}

describe("finding Moddable's tools", () => {
  it("takes $MODDABLE when its tools are built, and names what is missing when they are not", () => {
    const sdk = fakeSdk(scratch("own"), "8.2.3");
    expect(findModdable({ MODDABLE: sdk })).toMatchObject({ root: sdk, version: "8.2.3", source: "MODDABLE" });
    fs.rmSync(path.join(sdk, "build", "bin", HOST, "release", "xsl"));
    expect(findModdable({ MODDABLE: sdk })).toBeUndefined();
    expect(moddableProblem({ MODDABLE: sdk })).toContain(`tools are not built (no xsl in build/bin/${HOST}/release)`);
  });

  it("otherwise takes the cache's build of the pinned version, and ignores others", () => {
    const cache = scratch("cache");
    fakeSdk(path.join(cache, "moddable", "8.1.0-0123456789ab"), "8.1.0");
    expect(findModdable({ ESPLAB_CACHE: cache })).toBeUndefined();
    const pinned = fakeSdk(path.join(cache, "moddable", "8.2.3-abcdefabcdef"), "8.2.3");
    expect(findModdable({ ESPLAB_CACHE: cache })).toMatchObject({ root: pinned, source: "cache" });
  });
});

describe("esplab moddable setup", () => {
  const log = () => {};

  it("refuses a missing archive, a misnamed one, and one that holds no SDK, given by a relative path", async () => {
    const dir = scratch("archives");
    const env = { ...process.env, ESPLAB_CACHE: scratch("cache") };
    await expect(setupModdable({ archive: path.join(dir, "moddable-sdk-8.2.3.tar.xz"), log, env })).rejects.toThrow(/no SDK archive at/);
    fs.writeFileSync(path.join(dir, "readme.md"), "not an SDK");
    for (const name of ["sdk.tar.xz", "moddable-sdk-8.2.3.tar.xz"]) {
      expect(spawnSync("tar", ["-cJf", name, "readme.md"], { cwd: dir }).status).toBe(0);
    }
    await expect(setupModdable({ archive: path.join(dir, "sdk.tar.xz"), log, env })).rejects.toThrow(/is not named moddable-sdk-<version>/);
    const relative = path.relative(process.cwd(), path.join(dir, "moddable-sdk-8.2.3.tar.xz"));
    await expect(setupModdable({ archive: relative, log, env })).rejects.toThrow(/does not hold a Moddable SDK \(no xs\/makefiles\)/);
    // Nothing half-built is left in the cache.
    expect(fs.readdirSync(path.join(env.ESPLAB_CACHE, "moddable"))).toEqual([]);
  });
});
