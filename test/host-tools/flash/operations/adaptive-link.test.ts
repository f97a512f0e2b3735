import { afterEach, describe, expect, it } from "vitest";
import { flashImages } from "../../../../host-tools/flash/operations/flash-images.ts";
import { ChipSimHarness, standardImages } from "../../../support/chip-sim.ts";

const harness = new ChipSimHarness();
afterEach(() => harness.close());

function holdsAll(flash: { read(address: number, length: number): Uint8Array }, regions: { address: number; data: Uint8Array }[]): boolean {
  return regions.every((region) => Buffer.from(flash.read(region.address, region.data.length)).equals(Buffer.from(region.data)));
}

// The simulator runs without modelled time here: what is checked is the outcome and the blocks on the wire.
describe("adaptive link on a noisy line (1e-4 of bytes damaged, either direction)", () => {
  it("with the block size fixed at 16 KB the app never arrives (about 1 block in 5 does)", async () => {
    const simulator = await harness.simulator({ faults: { seed: 100, corruptRate: 1e-4 } });
    const error = await flashImages(await harness.session(simulator, { baud: 921600 }), standardImages(), { adaptLink: false }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/writing app at 0x10000 failed after 3 attempt/);
  });

  it("shrinks the blocks, says so, and finishes with every region verified", async () => {
    for (const seed of [100, 101, 102]) {
      const simulator = await harness.simulator({ faults: { seed, corruptRate: 1e-4 } });
      const changes: string[] = [];
      const images = standardImages();
      const reports = await flashImages(await harness.session(simulator, { baud: 921600 }), images, { onLinkChange: (link) => changes.push(link) });
      expect(reports.every((report) => !report.skipped)).toBe(true);
      expect(holdsAll(simulator.flash, images), `seed ${seed}`).toBe(true);
      expect(changes[0], `seed ${seed}`).toMatch(/^(4|1) KB blocks at 921600 baud$/);
      await harness.close();
    }
  });

  it("after a write the line defeats, the region goes in 64 KB pieces, and a failed piece is all that is sent again", async () => {
    const simulator = await harness.simulator({
      faults: {
        commands: [
          // From the app's 6th data block on, eight sends in a row arrive with a damaged length: the first attempt
          // gives that block up, and the piece-wise rewrite absorbs the rest in its first piece.
          { op: "FLASH_DEFL_DATA", field: "length", nth: 8, times: 8, xor: 0x10 },
          // The 10th MD5 is the 5th piece's check (after three unchanged-checks and two region checks): it reads the
          // wrong place, so that piece, and only it, is written again.
          { op: "SPI_FLASH_MD5", field: "address", nth: 10, xor: 0x1000 },
        ],
      },
    });
    const images = standardImages();
    const changes: string[] = [];
    await flashImages(await harness.session(simulator, { baud: 921600 }), images, { onLinkChange: (link) => changes.push(link) });
    expect(changes).toEqual(["4 KB blocks at 921600 baud"]);
    // bootloader, table, the app's failed attempt, 0x10000..0xa2ed0 in ten pieces of at most 64 KB, the 5th again.
    expect(simulator.chip!.commandCounts.get("FLASH_DEFL_BEGIN")).toBe(3 + 10 + 1);
    expect(holdsAll(simulator.flash, images)).toBe(true);
  });

  it("keeps 16 KB blocks on a clean line", async () => {
    const simulator = await harness.simulator();
    const changes: string[] = [];
    await flashImages(await harness.session(simulator, { baud: 921600 }), standardImages(), { onLinkChange: (link) => changes.push(link) });
    expect(changes).toEqual([]);
  });

  it("lowers the baud when even the smallest blocks keep failing (an adapter that garbles above 460800)", async () => {
    // Garbled enough above 460800 that 256-byte blocks mostly fail, yet the session's few probe reads get through.
    const simulator = await harness.simulator({ faults: { seed: 1, unreliableAbove: 460800, unreliableRate: 2e-3 } });
    const session = await harness.session(simulator, { baud: 921600 });
    expect(session.baud).toBe(921600);
    const changes: string[] = [];
    const images = standardImages();
    await flashImages(session, images, { onLinkChange: (link) => changes.push(link) });
    expect(changes.at(-1)).toMatch(/blocks at 460800 baud$/);
    expect(session.baud).toBe(460800);
    expect(holdsAll(simulator.flash, images)).toBe(true);
  });
});
