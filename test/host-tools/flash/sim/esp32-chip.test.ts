import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Op, dataChecksum } from "../../../../host-tools/flash/protocol/commands.ts";
import { decodeResponse, encodeRequest, words } from "../../../../host-tools/flash/protocol/packets.ts";
import { SlipDecoder, slipEncode } from "../../../../host-tools/flash/protocol/slip.ts";
import { CommandFaults } from "../../../../host-tools/flash/sim/faults.ts";
import { SimulatedEsp32 } from "../../../../host-tools/flash/sim/esp32-chip.ts";
import { SimulatedFlash } from "../../../../host-tools/flash/sim/spi-flash.ts";

function chipWithReplies() {
  const decoder = new SlipDecoder(0x10000);
  const replies: Uint8Array[] = [];
  const chip = new SimulatedEsp32({ flash: SimulatedFlash.inMemory(0x40000) }, (bytes) => {
    for (const event of decoder.push(bytes)) if (event.kind === "frame") replies.push(event.data);
  });
  const send = (op: number, data: Uint8Array, checksum = 0) => chip.receive(slipEncode(encodeRequest({ op, checksum, data })));
  return { chip, replies, send };
}

describe("SimulatedEsp32", () => {
  it("answers SYNC eight times with the ROM's value and an unknown command under another op", async () => {
    const { chip, replies, send } = chipWithReplies();
    send(Op.SYNC, new Uint8Array(36));
    send(Op.GET_SECURITY_INFO, new Uint8Array());
    await chip.idle();
    expect(replies.length).toBe(9);
    expect(decodeResponse(replies[0]!).value).toBe(0x20120707);
    const refusal = decodeResponse(replies[8]!);
    expect(refusal.op).not.toBe(Op.GET_SECURITY_INFO);
    expect(Array.from(refusal.data.subarray(0, 2))).toEqual([1, 0x05]);
  });

  it("refuses a flash block whose checksum does not match and accepts it resent, once", async () => {
    const { chip, replies, send } = chipWithReplies();
    send(Op.SPI_ATTACH, words(0, 0));
    send(Op.FLASH_BEGIN, words(0x400, 1, 0x400, 0x1000));
    const block = new Uint8Array(0x400).fill(0x5a);
    const packet = new Uint8Array([...words(0x400, 0, 0, 0), ...block]);
    send(Op.FLASH_DATA, packet, dataChecksum(block) ^ 1);
    send(Op.FLASH_DATA, packet, dataChecksum(block));
    send(Op.FLASH_DATA, packet, dataChecksum(block));
    await chip.idle();
    const statuses = replies.map((frame) => Array.from(decodeResponse(frame).data.subarray(0, 2)));
    expect(statuses).toEqual([[0, 0], [0, 0], [1, 0x07], [0, 0], [0, 0]]);
  });

  it("in ROM mode refuses a FLASH_BEGIN that does not start a sector, and takes it sector-aligned", async () => {
    const { chip, replies, send } = chipWithReplies();
    send(Op.SPI_ATTACH, words(0, 0));
    send(Op.FLASH_BEGIN, words(0x400, 1, 0x400, 0x1100));
    send(Op.FLASH_BEGIN, words(0x400, 1, 0x400, 0x1000));
    await chip.idle();
    const statuses = replies.map((frame) => Array.from(decodeResponse(frame).data.subarray(0, 2)));
    expect(statuses).toEqual([[0, 0], [1, 0x06], [0, 0]]);
  });

  it("damages the chosen field of the Nth command only (a targeted fault), and names a field a command lacks", async () => {
    const faults = new CommandFaults([{ op: "FLASH_DEFL_BEGIN", field: "address", nth: 2, xor: 0x10000 }]);
    const begin = words(0x1000, 1, 0x4000, 0x10000);
    const seen = [1, 2, 3].map(() => new DataView(faults.apply(Op.FLASH_DEFL_BEGIN, begin).buffer).getUint32(12, true));
    expect(seen).toEqual([0x10000, 0, 0x10000]);
    expect(new DataView(begin.buffer).getUint32(12, true)).toBe(0x10000);
    expect(() => new CommandFaults([{ op: "SYNC", field: "address", nth: 1, xor: 1 }])).toThrow(/SYNC has no address field/);
  });

  it("never throws and always settles on arbitrary commands (including malformed ones)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(fc.record({ op: fc.constantFrom(...Object.values(Op).filter((op) => op !== Op.READ_FLASH), 0x00, 0x7f), data: fc.uint8Array({ maxLength: 80 }), checksum: fc.nat(255), raw: fc.boolean() }), { maxLength: 12 }),
        async (asStub, commands) => {
          const { chip, send } = chipWithReplies();
          // READ_FLASH is left out: a stub streaming to a host that never acknowledges waits seconds, by design.
          if (asStub) chip.mode = "stub";
          for (const command of commands) {
            if (command.raw) chip.receive(slipEncode(command.data));
            else send(command.op, command.data, command.checksum);
          }
          await chip.idle();
        },
      ),
      { numRuns: 300 },
    );
  });
});
