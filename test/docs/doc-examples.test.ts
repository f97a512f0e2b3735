import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildFirmwareBundle } from "../../host-tools/build/firmware-bundle.ts";
import { ESPLAB_ROOT, loadProject } from "../../host-tools/project/project.ts";

/** The docs students copy from: every ```ts block in them is a whole app. */
const DOCS = ["docs/write-your-own-app.md", "docs/coming-from-arduino.md"];
const root = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-doc-examples-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("the apps in the docs", () => {
  it("build as device code in a student's project, each registering its own app", async () => {
    fs.writeFileSync(path.join(root, "package.json"), JSON.stringify({ name: "doc-examples", esplab: { app: "counter" } }));
    fs.mkdirSync(path.join(root, "node_modules"));
    fs.symlinkSync(ESPLAB_ROOT, path.join(root, "node_modules/esplab"));
    let count = 0;
    for (const doc of DOCS) {
      const text = fs.readFileSync(path.join(ESPLAB_ROOT, doc), "utf8");
      for (const [, code] of text.matchAll(/```ts\n([\s\S]*?)```/g)) {
        fs.mkdirSync(path.join(root, "src"), { recursive: true });
        fs.writeFileSync(path.join(root, `src/example-${++count}.ts`), code!);
      }
    }
    expect(count).toBeGreaterThanOrEqual(5);
    const project = loadProject(root);
    expect(project.apps.map((app) => app.names).flat()).toEqual(["counter", "lcd-hello", "keys-to-serial", "distance-every-second", "store-a-reading"]);
    const bundle = await buildFirmwareBundle("xs", project); // throws with the file and line of a broken example
    expect(fs.readFileSync(bundle, "utf8")).toMatch(/registerApp\("store-a-reading"/);
  }, 120_000);
});
