import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FLASH_TIMING, SimulatedFlash } from "../../../../host-tools/flash/sim/spi-flash.ts";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("SimulatedFlash", () => {
  it("behaves like NOR: programming only clears bits until the sector is erased", () => {
    const flash = SimulatedFlash.inMemory(0x10000);
    flash.program(0x100, Uint8Array.from([0xf0]));
    flash.program(0x100, Uint8Array.from([0x0f]));
    expect(flash.read(0x100, 1)[0]).toBe(0x00);
    expect(flash.erase(0, 0x1000)).toBe(FLASH_TIMING.sectorEraseMs);
    expect(flash.read(0x100, 1)[0]).toBe(0xff);
    expect(flash.erase(0, 0x10000)).toBe(FLASH_TIMING.blockEraseMs);
    expect(() => flash.program(0xffff, Uint8Array.from([1, 2]))).toThrow(RangeError);
  });

  it("keeps its content in a file across restarts and refuses a file of another size", () => {
    dir = mkdtempSync(path.join(tmpdir(), "esplab-flash-"));
    const file = path.join(dir, "flash.bin");
    const first = SimulatedFlash.fileBacked(file, 0x20000);
    first.erase(0x1000, 0x1000);
    first.program(0x1000, Uint8Array.from([1, 2, 3]));
    first.close();
    const second = SimulatedFlash.fileBacked(file, 0x20000);
    expect(Array.from(second.read(0x1000, 4))).toEqual([1, 2, 3, 0xff]);
    second.close();
    writeFileSync(path.join(dir, "small.bin"), new Uint8Array(100));
    expect(() => SimulatedFlash.fileBacked(path.join(dir!, "small.bin"), 0x20000)).toThrow(/is 100 bytes but the simulated flash is 131072/);
  });
});
