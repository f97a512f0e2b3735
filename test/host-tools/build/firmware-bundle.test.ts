import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackgroundBuilder } from "../../../host-tools/build/background-builder.ts";
import { buildFirmwareBundle, BuildError } from "../../../host-tools/build/firmware-bundle.ts";
import { copyFirmware } from "../../support/firmware-copy.ts";
import { esplabProject } from "../../../host-tools/project/project.ts";

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const APP = "apps/board-check.ts";

describe("firmware bundle builds of an edited tree (a temporary copy of firmware/)", () => {
  let tree: ReturnType<typeof copyFirmware>;
  let original: string;
  beforeAll(() => {
    tree = copyFirmware();
    fs.copyFileSync(tree.file("apps/servo-mapping.ts"), tree.file("apps/servo-mapping.ts.orig"));
    original = fs.readFileSync(tree.file(APP), "utf8");
  });
  afterAll(() => tree.remove());

  it("a syntax error names its file, line and column with the code frame; edits after it throw nothing; the fix builds", async () => {
    const line = original.split("\n").length + 1;
    fs.writeFileSync(tree.file(APP), `${original}\nconst = 1;\n`);
    const failure = await buildFirmwareBundle("xs", esplabProject(tree.root)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BuildError);
    const { problem } = failure as BuildError;
    expect(problem).toMatchObject({ file: tree.file(APP), line, column: 7 });
    expect(problem.message).toMatch(new RegExp(`board-check\\.ts:${line}:7 TS1134: Variable declaration expected\\.$`));
    expect(problem.frame).toContain("const = 1;");
    expect(problem.frame).not.toMatch(/\u001b/);

    // A failed build used to leave TypeScript watching the tree: this second edit then threw outside any build and
    // killed the process (vitest reports such an error as a failure of this file).
    fs.writeFileSync(tree.file(APP), `${original}\nconst = 2;\n`);
    await settle(1500);
    fs.writeFileSync(tree.file(APP), original.replace("`servo ${angle}", "`FIXED ${angle}"));
    const bundle = await buildFirmwareBundle("xs", esplabProject(tree.root));
    expect(bundle.startsWith(tree.root)).toBe(true);
    expect(fs.readFileSync(bundle, "utf8")).toContain("`FIXED ${angle}");

    // Builds reuse the last one's program: each edit still lands, and an error in one file is still found.
    fs.writeFileSync(tree.file(APP), original.replace("`servo ${angle}", "`AGAIN ${angle}"));
    const again = fs.readFileSync(await buildFirmwareBundle("xs", esplabProject(tree.root)), "utf8");
    expect(again).toContain("`AGAIN ${angle}");
    expect(again).not.toContain("`FIXED ${angle}");
    fs.writeFileSync(tree.file("apps/servo-mapping.ts"), `${fs.readFileSync(tree.file("apps/servo-mapping.ts"), "utf8")}\nexport const wrong: number = "text";\n`);
    await expect(buildFirmwareBundle("xs", esplabProject(tree.root))).rejects.toThrow(/servo-mapping\.ts:\d+:14 TS2322/);
  }, 120_000);

  it("builds on a worker thread: a failed build rejects with the problem and the next build succeeds", async () => {
    const builder = new BackgroundBuilder();
    fs.renameSync(tree.file("apps/servo-mapping.ts.orig"), tree.file("apps/servo-mapping.ts"));
    try {
      fs.writeFileSync(tree.file(APP), `${original}\nlet broken: number = "text";\n`);
      const failure = (await builder.build("xs", esplabProject(tree.root)).catch((error: unknown) => error)) as BuildError;
      expect(failure).toBeInstanceOf(BuildError);
      expect(failure.problem.message).toMatch(/board-check\.ts:\d+:5 TS2322: Type 'string' is not assignable to type 'number'\./);
      fs.writeFileSync(tree.file(APP), original.replace("`servo ${angle}", "`WORKER ${angle}"));
      const file = await builder.build("xs", esplabProject(tree.root));
      expect(fs.readFileSync(file, "utf8")).toContain("`WORKER ${angle}");
    } finally {
      await builder.close();
    }
  }, 120_000);
});
