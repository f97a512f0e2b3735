import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SlipDecoder, slipEncode } from "../../../../host-tools/flash/protocol/slip.ts";

const frames = (events: ReturnType<SlipDecoder["push"]>) => events.filter((e) => e.kind === "frame").map((e) => Array.from((e as { data: Uint8Array }).data));

describe("SLIP", () => {
  it("escapes 0xC0 and 0xDB inside a packet and wraps it in 0xC0", () => {
    expect(Array.from(slipEncode(Uint8Array.from([0x01, 0xc0, 0xdb, 0x02])))).toEqual([0xc0, 0x01, 0xdb, 0xdc, 0xdb, 0xdd, 0x02, 0xc0]);
  });

  it("decodes packets split at every byte boundary and reports the boot log between them as noise", () => {
    const stream = Uint8Array.from([...Buffer.from("rst:0x1\r\n"), ...slipEncode(Uint8Array.from([1, 0xc0, 2])), ...slipEncode(Uint8Array.from([0xdb]))]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new SlipDecoder();
      const events = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
      expect(frames(events)).toEqual([[1, 0xc0, 2], [0xdb]]);
      expect(events.filter((e) => e.kind === "noise").map((e) => Buffer.from((e as { bytes: Uint8Array }).bytes).toString()).join("")).toBe("rst:0x1\r\n");
    }
  });

  it("reports a bad escape and an oversized packet as corrupt, then resynchronises on the next packet", () => {
    const decoder = new SlipDecoder(8);
    const events = decoder.push(Uint8Array.from([0xc0, 0xdb, 0x01, 0xc0, 0xc0, ...new Array(20).fill(7), 0xc0, ...slipEncode(Uint8Array.from([9]))]));
    expect(events.filter((e) => e.kind === "corrupt").map((e) => (e as { reason: string }).reason)).toEqual(["invalid SLIP escape 0xdb 0x01", "packet longer than 8 bytes"]);
    expect(frames(events)).toEqual([[9]]);
  });

  it("round-trips any sequence of packets however the stream is chunked", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 8 }), fc.array(fc.nat(400), { maxLength: 6 }), (packets, cuts) => {
        const stream = Buffer.concat(packets.map((p) => slipEncode(p)));
        const decoder = new SlipDecoder(1024);
        const events = [];
        let at = 0;
        for (const cut of [...cuts.map((c) => Math.min(stream.length, c)).sort((a, b) => a - b), stream.length]) {
          if (cut < at) continue;
          events.push(...decoder.push(stream.subarray(at, cut)));
          at = cut;
        }
        expect(frames(events)).toEqual(packets.map((p) => Array.from(p)));
      }),
    );
  });

  it("never throws on arbitrary bytes and keeps every frame within its size limit", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const decoder = new SlipDecoder(64);
        for (const event of decoder.push(bytes)) if (event.kind === "frame") expect(event.data.length).toBeLessThanOrEqual(64);
      }),
    );
  });
});
