import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../../../../firmware/core/errors.ts";
import { dataChecksum, explainStatus, Op } from "../../../../host-tools/flash/protocol/commands.ts";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, words } from "../../../../host-tools/flash/protocol/packets.ts";

describe("loader packets", () => {
  it("encodes a READ_REG request as the ROM expects: 00 0a 0400 00000000 then the address", () => {
    expect(Buffer.from(encodeRequest({ op: Op.READ_REG, checksum: 0, data: words(0x40001000) })).toString("hex")).toBe("000a04000000000000100040");
  });

  it("computes the data checksum from 0xEF", () => {
    expect(dataChecksum(new Uint8Array())).toBe(0xef);
    expect(dataChecksum(Uint8Array.from([0xef]))).toBe(0);
    expect(dataChecksum(Uint8Array.from([1, 2, 4]))).toBe(0xef ^ 7);
  });

  it("explains ROM and stub status codes", () => {
    expect(explainStatus(0x07)).toMatch(/checksum/);
    expect(explainStatus(0xc7)).toMatch(/inflate/);
    expect(explainStatus(0x42)).toMatch(/unknown error 0x42/);
  });

  it("round-trips requests and responses", () => {
    fc.assert(
      fc.property(fc.nat(255), fc.nat(0xffffffff), fc.uint8Array({ maxLength: 600 }), (op, word, data) => {
        expect(decodeRequest(encodeRequest({ op, checksum: word, data }))).toEqual({ op, checksum: word, data });
        expect(decodeResponse(encodeResponse({ op, value: word, data }))).toEqual({ op, value: word, data });
      }),
    );
  });

  it("rejects damaged packets with a ProtocolError only", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        for (const decode of [decodeRequest, decodeResponse]) {
          try {
            decode(bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
          }
        }
      }),
    );
  });
});
