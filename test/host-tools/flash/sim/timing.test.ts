import { deflateSync } from "node:zlib";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Op, dataChecksum } from "../../../../host-tools/flash/protocol/commands.ts";
import { encodeRequest, words } from "../../../../host-tools/flash/protocol/packets.ts";
import { slipEncode } from "../../../../host-tools/flash/protocol/slip.ts";
import { SimulatedEsp32 } from "../../../../host-tools/flash/sim/esp32-chip.ts";
import { SimulatedFlash } from "../../../../host-tools/flash/sim/spi-flash.ts";
import { SimulatedUart } from "../../../../host-tools/flash/sim/uart.ts";

afterEach(() => vi.useRealTimers());

/** Runs virtual time forward until `done` holds; while the chip waits on real I/O (zlib) and no timer is set, it stands. */
async function virtualMsUntil(done: () => boolean): Promise<number> {
  const start = performance.now();
  while (!done()) {
    if (vi.getTimerCount() > 0) await vi.advanceTimersByTimeAsync(0.5);
    else await new Promise((resolve) => setImmediate(resolve));
  }
  return performance.now() - start;
}

describe("the simulator's timing model", () => {
  it("delivers a transfer after its bit times plus one USB frame, and at once when time is not modelled", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "performance"] });
    const received: number[] = [];
    const chip = { baud: 9600 } as SimulatedEsp32;
    const uart = new SimulatedUart(chip, { timeScale: 1 }, (bytes) => received.push(bytes.length), () => {});
    uart.fromChip(new Uint8Array(100));
    // 100 bytes x 10 bits at 9600 baud = 104.2 ms on the line, then the adapter's 1 ms frame (the fake clock fires
    // timers on whole milliseconds, so at 105 ms; without the frame at 104 ms).
    await vi.advanceTimersByTimeAsync(104.5);
    expect(received).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(received).toEqual([100]);

    const instant = new SimulatedUart(chip, { timeScale: 0 }, (bytes) => received.push(bytes.length), () => {});
    instant.fromChip(new Uint8Array(7));
    expect(received).toEqual([100, 7]);
  });

  it("counts inflating a compressed block before programming it", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "performance"] });
    const answers: number[] = [];
    const chip = new SimulatedEsp32({ flash: SimulatedFlash.inMemory(0x40000), timeScale: 1 }, () => answers.push(performance.now()));
    const send = (op: number, data: Uint8Array, checksum = 0) => chip.receive(slipEncode(encodeRequest({ op, checksum, data })));
    send(Op.SPI_ATTACH, words(0, 0));
    send(Op.FLASH_DEFL_BEGIN, words(0x4000, 1, 0x4000, 0x10000));
    await virtualMsUntil(() => answers.length === 2);
    const compressed = deflateSync(new Uint8Array(0x4000).fill(0x42));
    send(Op.FLASH_DEFL_DATA, new Uint8Array([...words(compressed.length, 0, 0, 0), ...compressed]), dataChecksum(compressed));
    const ms = await virtualMsUntil(() => answers.length === 3);
    // ROM mode: 16 KB inflated at 2 MB/s (8 ms) then 64 pages programmed at 0.4 ms (25.6 ms) before the answer;
    // programming alone would answer after 25.6 ms (the fake clock fires on whole milliseconds, stepped by 0.5).
    expect(ms).toBeGreaterThanOrEqual(33);
    expect(ms).toBeLessThanOrEqual(34.5);
  });
});
