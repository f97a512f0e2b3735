import { describe, expect, it } from "vitest";
import { ProgressLine, formatBytes, formatProgress } from "../../../../host-tools/flash/operations/progress.ts";

describe("the progress line", () => {
  it("shows bar, percent, bytes, effective kbit/s and ETA", () => {
    expect(formatProgress("app @ 0x10000", 300 * 1024, 600 * 1024, 2)).toBe(
      "app @ 0x10000 [████████████░░░░░░░░░░░░]  50%  300.0 KB/600.0 KB  1229 kbit/s  ETA 2.0 s",
    );
  });

  it("does not guess a rate in the first quarter second", () => {
    expect(formatProgress("x", 16 * 1024, 600 * 1024, 0.01)).toMatch(/… kbit\/s  ETA …$/);
  });

  it("keeps a note about the link beside the bar once it is given (a TTY), or prints it as a line (a pipe)", () => {
    const output = (isTTY: boolean) => {
      const written: string[] = [];
      const out = Object.assign({ write: (text: string) => (written.push(text), true) }, { isTTY }) as unknown as NodeJS.WritableStream & { isTTY: boolean };
      const line = new ProgressLine(out, () => 0);
      line.start("app @ 0x10000");
      line.update(10, 100);
      line.note("noisy line: blocks lost, now 1 KB blocks at 921600 baud");
      line.update(20, 100);
      return written;
    };
    expect(output(true).at(-1)).toMatch(/ 20% .*\(noisy line: blocks lost, now 1 KB blocks at 921600 baud\)\x1b\[K$/);
    expect(output(false)).toEqual(["app @ 0x10000: noisy line: blocks lost, now 1 KB blocks at 921600 baud\n"]);
  });

  it("formats sizes", () => {
    expect([formatBytes(96), formatBytes(7888), formatBytes(1048576)]).toEqual(["96 B", "7.7 KB", "1.00 MB"]);
  });
});
