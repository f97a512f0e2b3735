import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startFirebaseEmulator, type FirebaseEmulator } from "../../../../host-tools/cloud/firebase/index.ts";
import { NamespaceStore, namespaceOfFile, namespaceFileName } from "../../../../host-tools/cloud/firebase/store.ts";

describe("namespace store on disk", () => {
  const dirs: string[] = [];
  const stores: NamespaceStore[] = [];
  let emulator: FirebaseEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
    await Promise.all(stores.splice(0).map((store) => store.close()));
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
    vi.restoreAllMocks();
  });
  const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-store-"));
    dirs.push(dir);
    return dir;
  };
  const open = (dir: string, afterBytes?: number) => {
    const store = new NamespaceStore("n", dir, { afterBytes });
    stores.push(store);
    return store;
  };

  it("folds the log into a snapshot once it outgrows its bound, and loads the same tree from them", async () => {
    const dir = tempDir();
    const store = open(dir, 500);
    for (let i = 0; i < 100; i++) await store.commit({ set: ["r", `k${i}`], value: { i } });
    await store.commit({ update: ["r"], values: [[["k1"], null], [["extra", "x"], true]] });
    await store.close();
    expect(fs.statSync(path.join(dir, "n.snapshot.json")).size).toBeGreaterThan(0);
    expect(fs.statSync(path.join(dir, "n.log")).size).toBeLessThan(1000);
    expect(fs.existsSync(path.join(dir, "n.log.next"))).toBe(false);
    const expected = Object.fromEntries([...Array.from({ length: 100 }, (_, i) => [`k${i}`, { i }]).filter(([key]) => key !== "k1"), ["extra", { x: true }]]);
    expect(open(dir).root).toEqual({ r: expected });
  });

  it("keeps the writes made while a compaction writes its snapshot in slices", async () => {
    const dir = tempDir();
    const store = open(dir, 100_000);
    const big = Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`r${i}`, { cm: i % 200, at: i }]));
    await store.commit({ set: ["readings"], value: big }); // over the bound: the compaction starts after this batch
    let during = 0;
    const next = path.join(dir, "n.log.next");
    const compacting = fs.existsSync(next); // the compaction is under way when the writes below start
    // Rewrite, delete and add readings, in batches, for as long as the second log is there (the compaction runs).
    for (let round = 0; fs.existsSync(next) || round === 0; round++) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) => {
          const i = (round * 20 + j) * 97 % 40_000;
          during++;
          return j % 4 === 0 ? store.commit({ set: ["readings", `r${i}`], value: null }) : store.commit({ set: ["readings", `r${i}`, "cm"], value: 1000 + round });
        }),
      );
      await store.commit({ update: ["extra"], values: [[[`e${round}`], round]] });
    }
    // Writes went in while the compaction ran (how many depends on the machine's speed, so only that some did).
    expect(compacting).toBe(true);
    expect(during).toBeGreaterThanOrEqual(20);
    const expected = structuredClone(store.root);
    await store.close();
    expect(fs.existsSync(next)).toBe(false);
    expect(open(dir).root).toEqual(expected);
  });

  it("cuts a torn record off the end of either log, and skips an unreadable one in the middle, keeping the rest", () => {
    const dir = tempDir();
    const line = (record: object) => `${JSON.stringify(record)}\n`;
    fs.writeFileSync(path.join(dir, "n.snapshot.json"), JSON.stringify({ root: { a: 1 }, rules: { rules: { ".read": true, ".write": true } } }));
    fs.writeFileSync(path.join(dir, "n.log"), line({ set: ["b"], value: 2 }) + "{not json\n" + line({ set: ["c"], value: 3 }) + '{"set":["torn"');
    fs.writeFileSync(path.join(dir, "n.log.next"), line({ set: ["d"], value: 4 }) + '{"set":["torn2"],"va');
    const store = open(dir);
    expect(store.root).toEqual({ a: 1, b: 2, c: 3, d: 4 });
    expect(store.warnings.join("\n")).toMatch(/dropped a torn last record in n\.log \(14 bytes\)[\s\S]*skipped 1 unreadable record\(s\) in n\.log[\s\S]*torn last record in n\.log\.next/);
    // The interrupted compaction was finished: one snapshot with everything, one empty log.
    expect(fs.readdirSync(dir).sort()).toEqual(["n.log", "n.snapshot.json"]);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "n.snapshot.json"), "utf8")).root).toEqual({ a: 1, b: 2, c: 3, d: 4 });
  });

  it("refuses to start on a snapshot it cannot read, naming the file and what to do", async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "n.snapshot.json"), '{"root": {"a": 1');
    await expect(startFirebaseEmulator({ databasePort: 0, authPort: 0, dataDir: dir })).rejects.toThrow(
      /n\.snapshot\.json is not a readable snapshot \(.*\): .*restore it from a backup, or move it away to start "n" from its log alone/,
    );
  });

  it("loads every namespace in the data directory before it answers", async () => {
    const dir = tempDir();
    for (const name of ["a", "B.c"]) {
      const store = new NamespaceStore(name, dir);
      await store.commit({ set: ["x"], value: name });
      await store.close();
    }
    emulator = await startFirebaseEmulator({ databasePort: 0, authPort: 0, dataDir: dir });
    expect(emulator.database.namespaces.sort()).toEqual(["B.c", "a"]);
    expect(namespaceOfFile(`${namespaceFileName("é/x")}.snapshot.json`)).toBe("é/x");
    expect(namespaceOfFile("auth.json")).toBeUndefined();
    const read = async (ns: string) => (await fetch(`${emulator!.databaseUrl}/x.json?ns=${encodeURIComponent(ns)}`, { headers: { Authorization: "Bearer owner" } })).json();
    expect([await read("a"), await read("B.c")]).toEqual(["a", "B.c"]);
  });

  it("answers a write only once it is durable, and tells a failed save to the writer with what to do", async () => {
    const dir = tempDir();
    emulator = await startFirebaseEmulator({ databasePort: 0, authPort: 0, dataDir: dir });
    const put = (at: string, value: unknown) => fetch(`${emulator!.databaseUrl}/${at}.json?ns=n`, { method: "PUT", body: JSON.stringify(value), headers: { Authorization: "Bearer owner" } });
    expect((await put("ok", 1)).status).toBe(200);
    const fsync = vi.spyOn(fs, "fsync").mockImplementation(((_fd: number, done: (error: NodeJS.ErrnoException | null) => void) => done(Object.assign(new Error("EIO: i/o error"), { code: "EIO" }))) as typeof fs.fsync);
    const failed = await put("lost", 2);
    expect(failed.status).toBe(500);
    expect(((await failed.json()) as { error: string }).error).toMatch(/^n: a write could not be saved to .*n\.log \(EIO: i\/o error\); this namespace takes no more writes — fix the disk \(space, permissions\) and restart the emulator$/);
    fsync.mockRestore();
    expect((await put("after", 3)).status).toBe(500);
  });
});
