import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findApps } from "../../../host-tools/project/app-scan.ts";
import { chooseApp, ESPLAB_ROOT, findProject, loadProject, ProjectError } from "../../../host-tools/project/project.ts";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A project folder with these files (paths relative to it). */
function project(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-project-"));
  made.push(root);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  return root;
}
const pkg = (section: unknown) => JSON.stringify({ name: "my-a2", esplab: section });
const app = (name: string) => `import { registerApp } from "esplab/firmware";\n\nregisterApp(${JSON.stringify(name)}, () => ({ stop() {} }));\n`;

describe("a student's project", () => {
  it("is found from any folder inside it, with its apps read from the sources", () => {
    const root = project({ "package.json": pkg({ wiring: "wiring.json" }), "wiring.json": "{}", "src/app.ts": app("my-a2"), "src/lib/util.ts": "export const x = 1;\n" });
    const found = findProject(path.join(root, "src/lib"));
    expect(found.root).toBe(root);
    expect(found.builtIn).toBe(false);
    expect(found.apps).toEqual([{ file: path.join(root, "src/app.ts"), names: ["my-a2"], line: 3 }]);
    expect(found.defaultApp).toBe("my-a2"); // the only app
    expect(found.wiringFile).toBe(path.join(root, "wiring.json"));
    expect(found.bundleDir).toBe(path.join(root, "build"));
  });

  it("is esplab's own checkout outside any project", () => {
    const root = project({ "package.json": JSON.stringify({ name: "not-esplab" }) }); // a package.json without the section
    expect(findProject(root).root).toBe(ESPLAB_ROOT);
    expect(findProject(ESPLAB_ROOT).builtIn).toBe(true);
  });

  it("names the file and the fix for every mistake in its package.json section", () => {
    const bad = project({ "package.json": pkg({ app: 3, wiring: "../outside.json", colour: "red" }), "src/app.ts": app("a") });
    const message = () => loadProject(bad);
    expect(message).toThrow(ProjectError);
    expect(message).toThrow(/"app" must be a non-empty string, got 3/);
    expect(message).toThrow(/"wiring" \(\.\.\/outside\.json\) must be inside the project folder/);
    expect(message).toThrow(/unknown key "colour" \(known: app, sources, wiring, scenarios\)/);
    expect(() => loadProject(project({ "package.json": JSON.stringify({ name: "x" }) }))).toThrow(/has no "esplab" section: add "esplab": \{/);
    expect(() => loadProject(project({ "package.json": "{ not json" }))).toThrow(/package\.json is not valid JSON/);
    expect(() => loadProject(project({ "package.json": pkg({}) }))).toThrow(/the firmware sources folder src does not exist/);
    expect(() => loadProject(project({ "package.json": pkg({ wiring: "diagram.json" }), "src/app.ts": app("a") }))).toThrow(/the wiring file diagram\.json named in .* does not exist/);
  });

  it("refuses a project with no app, two apps of one name, or a default app it does not register", () => {
    expect(() => loadProject(project({ "package.json": pkg({}), "src/app.ts": "export {};\n" }))).toThrow(/no file under src\/ registers an app: add registerApp\("my-app"/);
    expect(() => loadProject(project({ "package.json": pkg({}), "src/a.ts": app("x"), "src/b.ts": `\n\n${app("x")}` }))).toThrow(/two apps are registered as "x": src\/a\.ts:3 and src\/b\.ts:5 — give each app its own name/);
    expect(() => loadProject(project({ "package.json": pkg({}), "src/a.ts": app("board-check") }))).toThrow(/registers "board-check", the name of esplab's own board test/);
    expect(() => loadProject(project({ "package.json": pkg({ app: "mine" }), "src/a.ts": app("other") }))).toThrow(/says "app": "mine", but the project registers "other"/);
  });

  it("checks the app a run asks for against the apps the project registers", () => {
    const root = project({ "package.json": pkg({}), "src/a.ts": app("one"), "src/b.ts": app("two") });
    const found = loadProject(root);
    expect(() => chooseApp(found, undefined)).toThrow(/registers 2 apps \(one, two\): say which to run/);
    expect(chooseApp(found, "two")).toBe("two");
    expect(chooseApp(found, "board-check")).toBe("board-check");
    expect(() => chooseApp(found, "three")).toThrow(/app "three" does not exist in my-a2 — it registers "one", "two".*register it with registerApp\("three", …\) in a file under src\//);
  });
});

describe("finding the apps in the sources", () => {
  it("reads registerApp calls with literal names, skipping declarations, node_modules and hidden folders", () => {
    const root = project({
      "src/a.ts": 'registerApp(`tmpl`, f);\nregisterApp("b", g);\n',
      "src/dynamic.ts": "registerApp(name, f);\n",
      "src/none.ts": "// registerApp(\"commented\", f)\nconst registerAppLater = 1;\n",
      "src/types.d.ts": 'declare function registerApp(n: "d", f: unknown): void; registerApp("d", 0);\n',
      "src/node_modules/x.ts": 'registerApp("nm", f);\n',
      "src/.hidden/x.ts": 'registerApp("hidden", f);\n',
    });
    expect(findApps(path.join(root, "src"))).toEqual([
      { file: path.join(root, "src/a.ts"), names: ["tmpl", "b"], line: 1 },
      { file: path.join(root, "src/dynamic.ts"), names: [], line: 1 },
    ]);
  });
});
