import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { COMPACTION_STEPS, type CompactionStep } from "../../../../host-tools/cloud/firebase/store.ts";

/**
 * The emulator runs in a child process that compacts after a few hundred bytes of log and stops at one step of the
 * compaction (main.ts ESPLAB_FIREBASE_PAUSE_AT); writes go on meanwhile, then the process is killed with SIGKILL at
 * that step. A new process on the same directory must hold every write that was acknowledged.
 */
const main = path.resolve(import.meta.dirname, "../../../../host-tools/cloud/firebase/main.ts");

interface Emulator {
  child: ChildProcess;
  databaseUrl: string;
  paused: Promise<string>;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function start(dataDir: string, pauseAt?: CompactionStep): Promise<Emulator> {
  const env = { ...process.env, ESPLAB_FIREBASE_COMPACT_AFTER_BYTES: "600", ...(pauseAt ? { ESPLAB_FIREBASE_PAUSE_AT: pauseAt } : {}) };
  const child = spawn(process.execPath, ["--import", "tsx", main, dataDir], { env, stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let text = "";
    let paused: (step: string) => void;
    const pausedAt = new Promise<string>((resolvePaused) => (paused = resolvePaused));
    child.stdout!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n")) {
        const line = JSON.parse(text.slice(0, end)) as { databaseUrl?: string; paused?: string };
        text = text.slice(end + 1);
        if (line.databaseUrl) resolve({ child, databaseUrl: line.databaseUrl, paused: pausedAt });
        if (line.paused) paused(line.paused);
      }
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => reject(new Error(`emulator exited (${code ?? signal}) before it listened`)));
  });
}

const put = async (databaseUrl: string, key: string, value: number) => {
  try {
    const response = await fetch(`${databaseUrl}/w/${key}.json?ns=c`, { method: "PUT", body: JSON.stringify({ value, pad: "x".repeat(40) }), headers: { Authorization: "Bearer owner" } });
    return response.status === 200;
  } catch {
    return false; // the process died with the request in flight: not acknowledged
  }
};

describe("crash during compaction", () => {
  it.each(COMPACTION_STEPS)("loses no acknowledged write when killed -9 at %s", async (step) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-compact-crash-"));
    dirs.push(dataDir);
    const first = await start(dataDir, step);
    const acknowledged = new Map<string, number>();
    let n = 0;
    const writeOne = async () => {
      const key = `k${n % 40}`; // overwrites too, so an older value replayed over a newer one would show
      const value = n++;
      if (await put(first.databaseUrl, key, value)) acknowledged.set(key, value);
    };
    let pausedStep: string | undefined;
    void first.paused.then((at) => (pausedStep = at));
    while (!pausedStep) await writeOne();
    expect(pausedStep).toBe(step);
    // Compaction is stopped at `step`: writes keep being acknowledged, 20 at a time in flight, then the kill.
    for (let round = 0; round < 3; round++) await Promise.all(Array.from({ length: 20 }, writeOne));
    const inFlight = Promise.all(Array.from({ length: 20 }, writeOne));
    first.child.kill("SIGKILL");
    await inFlight;
    await new Promise((resolve) => (first.child.exitCode !== null || first.child.signalCode !== null ? resolve(undefined) : first.child.once("exit", resolve)));

    const second = await start(dataDir);
    const stored = (await (await fetch(`${second.databaseUrl}/w.json?ns=c`, { headers: { Authorization: "Bearer owner" } })).json()) as Record<string, { value: number }>;
    expect(acknowledged.size).toBe(40);
    for (const [key, value] of acknowledged) {
      // A write in flight at the kill may have reached the disk without its answer: the stored value is that one or later.
      expect(stored[key]!.value).toBeGreaterThanOrEqual(value);
    }
    second.child.kill("SIGKILL");
  }, 30_000);
});
