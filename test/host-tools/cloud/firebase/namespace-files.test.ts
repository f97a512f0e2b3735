import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startFirebaseEmulator, type FirebaseEmulator } from "../../../../host-tools/cloud/firebase/index.ts";
import { namespaceFileName } from "../../../../host-tools/cloud/firebase/store.ts";

/** Reads a file name back into its namespace, ignoring case: if this works, no two namespaces share a file. */
function decode(file: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < file.length; ) {
    if (file[i] === "%") {
      bytes.push(parseInt(file.slice(i + 1, i + 3), 16));
      i += 3;
    } else bytes.push(file.toLowerCase().charCodeAt(i++));
  }
  return Buffer.from(bytes).toString("utf8");
}

describe("namespace file names", () => {
  it("give every namespace its own name, on case-insensitive file systems too", () => {
    expect(namespaceFileName("esplab-lab")).toBe("esplab-lab");
    expect(namespaceFileName("col_x")).toBe("col_x");
    expect(namespaceFileName("col.x")).toBe("col%2Ex");
    expect(namespaceFileName("Col_x")).toBe("%43ol_x");
    expect(namespaceFileName("col%2Ex")).toBe("col%252%45x");
    expect(namespaceFileName("../x")).toBe("%2E%2E%2Fx");
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (namespace) => {
        const file = namespaceFileName(namespace);
        expect(file).toMatch(/^(?:[a-z0-9_-]|%[0-9A-F]{2})*$/);
        expect(decode(file.toLowerCase().replace(/%([0-9a-f]{2})/g, (_, hex: string) => `%${hex.toUpperCase()}`))).toBe(namespace);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("namespaces on disk", () => {
  const dirs: string[] = [];
  let emulator: FirebaseEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
    vi.restoreAllMocks();
  });
  const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-ns-"));
    dirs.push(dir);
    return dir;
  };
  const read = async (namespace: string, at = "") =>
    (await fetch(`${emulator!.databaseUrl}/${at}.json?ns=${encodeURIComponent(namespace)}`, { headers: { Authorization: "Bearer owner" } })).json();
  const write = async (namespace: string, at: string, value: unknown) => {
    const response = await fetch(`${emulator!.databaseUrl}/${at}.json?ns=${encodeURIComponent(namespace)}`, {
      method: "PUT",
      body: JSON.stringify(value),
      headers: { Authorization: "Bearer owner" },
    });
    expect(response.status).toBe(200);
  };
  const restart = async (dataDir: string) => {
    await emulator?.close();
    emulator = await startFirebaseEmulator({ databasePort: 0, authPort: 0, dataDir });
  };

  it("keeps col.x, col_x, Col_x and col%2Ex apart, across a restart", async () => {
    const dataDir = tempDir();
    const namespaces = ["col.x", "col_x", "Col_x", "col%2Ex", "col/x"];
    await restart(dataDir);
    for (const [i, namespace] of namespaces.entries()) await write(namespace, "who", { namespace, i });
    await restart(dataDir);
    for (const [i, namespace] of namespaces.entries()) expect(await read(namespace, "who")).toEqual({ namespace, i });
    expect(fs.readdirSync(dataDir).filter((f) => f.endsWith(".log")).sort()).toEqual(["%43ol_x.log", "col%252%45x.log", "col%2Ex.log", "col%2Fx.log", "col_x.log"]);
  });

  it("refuses a namespace too long for a file name with a 400 that says so", async () => {
    await restart(tempDir());
    const response = await fetch(`${emulator!.databaseUrl}/x.json?ns=${"n".repeat(201)}`, { headers: { Authorization: "Bearer owner" } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/^Invalid namespace: "n{40}…" is too long/);
    expect(await read("n".repeat(200))).toBeNull();
  });

  it("reads a data directory from before: a file named as its namespace is kept, and the files a rewritten name shared are not handed to it", async () => {
    const dataDir = tempDir();
    // What the previous version wrote: "col.x" and "col_x" both went to col_x.*, "Demo" to Demo.*.
    fs.writeFileSync(path.join(dataDir, "col_x.log"), `${JSON.stringify({ set: ["a"], value: 1 })}\n`);
    fs.writeFileSync(path.join(dataDir, "Demo.snapshot.json"), JSON.stringify({ root: { s: "snapshot" }, rules: { rules: { ".read": true, ".write": true } } }));
    fs.writeFileSync(path.join(dataDir, "Demo.log"), `${JSON.stringify({ set: ["l"], value: "log" })}\n`);
    fs.writeFileSync(path.join(dataDir, "esplab-lab.log"), `${JSON.stringify({ set: ["lab"], value: true })}\n`);
    const warnings: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => void warnings.push(line));
    await restart(dataDir);
    expect(await read("col_x")).toEqual({ a: 1 });
    expect(await read("esplab-lab")).toEqual({ lab: true });
    expect(await read("Demo")).toEqual({ s: "snapshot", l: "log" });
    expect(await read("col.x")).toBeNull();
    expect(warnings.join("\n")).toMatch(/col\.x: starts empty; col_x\.log in .* is from an older esplab, where this namespace shared it with "col_x", which now reads it/);
    await write("col.x", "b", 2);
    await write("Demo", "l", "again");
    await restart(dataDir);
    expect(await read("col_x")).toEqual({ a: 1 });
    expect(await read("col.x")).toEqual({ b: 2 });
    expect(await read("Demo")).toEqual({ s: "snapshot", l: "again" });
    expect(fs.readdirSync(dataDir).filter((f) => !f.startsWith("auth")).sort()).toEqual(["%44emo.log", "%44emo.snapshot.json", "col%2Ex.log", "col_x.log", "esplab-lab.log"]);
  });
});
