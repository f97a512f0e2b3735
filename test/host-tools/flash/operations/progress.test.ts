import { describe, expect, it } from "vitest";
import { formatBytes, formatProgress } from "../../../../host-tools/flash/operations/progress.ts";

describe("the progress line", () => {
  it("shows bar, percent, bytes, effective kbit/s and ETA", () => {
    expect(formatProgress("app @ 0x10000", 300 * 1024, 600 * 1024, 2)).toBe(
      "app @ 0x10000 [████████████░░░░░░░░░░░░]  50%  300.0 KB/600.0 KB  1229 kbit/s  ETA 2.0 s",
    );
  });

  it("does not guess a rate in the first quarter second", () => {
    expect(formatProgress("x", 16 * 1024, 600 * 1024, 0.01)).toMatch(/… kbit\/s  ETA …$/);
  });

  it("formats sizes", () => {
    expect([formatBytes(96), formatBytes(7888), formatBytes(1048576)]).toEqual(["96 B", "7.7 KB", "1.00 MB"]);
  });
});
