import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { watchSources } from "../../../host-tools/lab/source-watcher.ts";
import { until } from "../../support/until.ts";

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let directory: string;
let stop = () => {};
beforeEach(() => {
  directory = mkdtempSync(path.join(tmpdir(), "esplab-watch-"));
});
afterEach(() => {
  stop();
  rmSync(directory, { recursive: true, force: true });
});

/** Counts reloads; `next()` resolves at the next one (and fails the test if none comes). */
function counting(directories = [directory], debounceMs = 50) {
  let reloads = 0;
  stop = watchSources(directories, async () => void reloads++, debounceMs);
  return {
    get reloads() {
      return reloads;
    },
    async next(edit: () => void) {
      const before = reloads;
      edit();
      await until(() => reloads > before, "a reload", 3000);
    },
  };
}

describe("watchSources (the lab's reload on edit)", () => {
  it("reloads once per burst of .ts edits, in nested folders, and ignores other files", async () => {
    mkdirSync(path.join(directory, "apps"));
    const watch = counting([directory], 200);
    for (let i = 0; i < 5; i++) writeFileSync(path.join(directory, "apps", "app.ts"), `export const v = ${i};`);
    await until(() => watch.reloads > 0);
    await settle(400);
    expect(watch.reloads).toBe(1);
    writeFileSync(path.join(directory, "notes.md"), "text");
    await settle(400);
    expect(watch.reloads).toBe(1);
    await watch.next(() => writeFileSync(path.join(directory, "main.ts"), "export {};"));
    expect(watch.reloads).toBe(2);
  });

  // Each editor's way of saving, three times over: a watch that lost the file after the first would fail the second.
  const file = () => path.join(directory, "apps", "app.ts");
  const saves: Record<string, (text: string) => void> = {
    "in place": (text) => writeFileSync(file(), text),
    "sed -i (a temporary file renamed over it)": (text) => {
      const temp = path.join(directory, "apps", "sedAb12Cd");
      writeFileSync(temp, text);
      renameSync(temp, file());
    },
    "JetBrains safe write (app.ts___jb_tmp___, old one to ___jb_old___)": (text) => {
      writeFileSync(`${file()}___jb_tmp___`, text);
      renameSync(file(), `${file()}___jb_old___`);
      renameSync(`${file()}___jb_tmp___`, file());
      unlinkSync(`${file()}___jb_old___`);
    },
    "vim (the file renamed to a backup, a new one written)": (text) => {
      renameSync(file(), `${file()}~`);
      writeFileSync(file(), text);
      unlinkSync(`${file()}~`);
    },
  };
  it.each(Object.keys(saves))("keeps reloading on saves made %s", async (style) => {
    mkdirSync(path.join(directory, "apps"));
    writeFileSync(file(), "export const v = 0;");
    const watch = counting();
    for (let i = 1; i <= 3; i++) {
      await watch.next(() => saves[style]!(`export const v = ${i};`));
      await settle(100);
    }
    expect(watch.reloads).toBe(3);
  });

  it("reloads for new files, in new folders too, and for folders moved in or made again", async () => {
    const watch = counting();
    await watch.next(() => writeFileSync(path.join(directory, "new.ts"), "export {};"));
    await watch.next(() => {
      mkdirSync(path.join(directory, "parts", "deep"), { recursive: true });
      writeFileSync(path.join(directory, "parts", "deep", "part.ts"), "export {};");
    });
    await settle(100);
    await watch.next(() => writeFileSync(path.join(directory, "parts", "deep", "part.ts"), "export const edited = 1;"));

    const outside = mkdtempSync(path.join(tmpdir(), "esplab-moved-"));
    writeFileSync(path.join(outside, "moved.ts"), "export {};");
    await watch.next(() => renameSync(outside, path.join(directory, "moved")));
    await settle(100);
    await watch.next(() => writeFileSync(path.join(directory, "moved", "moved.ts"), "export const edited = 1;"));

    await watch.next(() => rmSync(path.join(directory, "parts"), { recursive: true }));
    await settle(100);
    mkdirSync(path.join(directory, "parts"));
    await settle(100);
    await watch.next(() => writeFileSync(path.join(directory, "parts", "again.ts"), "export {};"));
  });

  it("watches every folder it is given, and not node_modules or dist inside them", async () => {
    const other = mkdtempSync(path.join(tmpdir(), "esplab-watch-other-"));
    try {
      mkdirSync(path.join(directory, "node_modules", "pkg"), { recursive: true });
      mkdirSync(path.join(directory, "dist"));
      const watch = counting([directory, other]);
      await watch.next(() => writeFileSync(path.join(other, "app.ts"), "export {};"));
      await settle(100);
      const before = watch.reloads;
      writeFileSync(path.join(directory, "node_modules", "pkg", "index.ts"), "export {};");
      writeFileSync(path.join(directory, "dist", "out.ts"), "export {};");
      await settle(300);
      expect(watch.reloads).toBe(before);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("does not run reloads at the same time, and none after stop", async () => {
    let active = 0;
    let overlapped = false;
    let started = 0;
    let finished = 0;
    stop = watchSources([directory], async () => {
      started++;
      active++;
      overlapped ||= active > 1;
      await settle(300);
      active--;
      finished++;
    }, 20);
    writeFileSync(path.join(directory, "a.ts"), "1");
    await until(() => started === 1);
    writeFileSync(path.join(directory, "a.ts"), "2"); // lands while the first reload runs
    await until(() => finished === 2);
    expect(overlapped).toBe(false);
    stop();
    writeFileSync(path.join(directory, "a.ts"), "3");
    await settle(300);
    expect(started).toBe(2);
  });
});
