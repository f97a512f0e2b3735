import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { GroupCommitLog } from "../../../../host-tools/cloud/firebase/group-commit.ts";

describe("GroupCommitLog", () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const open = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-gc-"));
    dirs.push(dir);
    const file = path.join(dir, "x.log");
    return { file, fd: fs.openSync(file, "a") };
  };

  it("writes records that arrive together with one fsync, and resolves none before that fsync has finished", async () => {
    const { file, fd } = open();
    const log = new GroupCommitLog(fd);
    const order: string[] = [];
    const fsync = fs.fsync;
    vi.spyOn(fs, "fsync").mockImplementation(((target: number, done: (error: NodeJS.ErrnoException | null) => void) => {
      order.push("fsync started");
      fsync(target, (error) => {
        order.push("fsync done");
        done(error);
      });
    }) as typeof fs.fsync);
    const acks = Array.from({ length: 100 }, (_, i) => log.append(`${i}\n`).then(() => order.push(`ack ${i}`)));
    await Promise.all(acks);
    expect(order.slice(0, 2)).toEqual(["fsync started", "fsync done"]);
    expect(order.filter((step) => step.startsWith("fsync"))).toHaveLength(2);
    expect(fs.readFileSync(file, "utf8")).toBe(Array.from({ length: 100 }, (_, i) => `${i}\n`).join(""));
    log.close();
  });

  it("batches the records that arrive while an fsync runs into the next one", async () => {
    const { file, fd } = open();
    const log = new GroupCommitLog(fd);
    const fsyncs = vi.spyOn(fs, "fsync");
    const first = log.append("a\n");
    await new Promise((resolve) => setImmediate(resolve)); // the first batch is on its way
    const later = ["b\n", "c\n", "d\n"].map((record) => log.append(record));
    await Promise.all([first, ...later]);
    expect(fsyncs).toHaveBeenCalledTimes(2);
    expect(fs.readFileSync(file, "utf8")).toBe("a\nb\nc\nd\n");
    log.close();
  });

  it("rejects the writes of a batch the disk refused", async () => {
    const { fd } = open();
    const log = new GroupCommitLog(fd);
    vi.spyOn(fs, "fsync").mockImplementation(((_fd: number, done: (error: NodeJS.ErrnoException | null) => void) => done(Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" }))) as typeof fs.fsync);
    await expect(log.append("a\n")).rejects.toThrow(/ENOSPC/);
    log.close();
  });
});
