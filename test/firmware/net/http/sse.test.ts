import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../../../../firmware/core/errors.ts";
import { type SseEvent, SseParser } from "../../../../firmware/net/http/sse.ts";

function run(pieces: Uint8Array[], maxEventBytes?: number): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseParser({ onEvent: (event) => events.push(event), maxEventBytes });
  for (const piece of pieces) parser.push(piece);
  return events;
}

const bytes = (text: string) => new Uint8Array(Buffer.from(text, "utf8"));

function split(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const sorted = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const cut of sorted) {
    out.push(data.subarray(last, cut));
    last = cut;
  }
  out.push(data.subarray(last));
  return out;
}

const FIREBASE_STREAM =
  "\ufeffevent: put\r\ndata: {\"path\":\"/\",\"data\":{\"name\":\"Zoë 🦖\"}}\r\n\r\n" +
  ": a comment\n" +
  "event: keep-alive\ndata: null\n\n" +
  "event: patch\rdata: {\"path\":\"/a\",\rdata: \"data\":{\"b\":1}}\r\r" +
  "id: 7\nevent: put\ndata:no-space\n\n" +
  "data: no event field\n\n";

describe("SseParser", () => {
  it("parses event, multi-line data, id, comments, BOM and all three line endings", () => {
    const events = run([bytes(FIREBASE_STREAM)]);
    expect(events.map((e) => e.type)).toEqual(["put", "keep-alive", "patch", "put", "message"]);
    expect(JSON.parse(events[0]!.data)).toEqual({ path: "/", data: { name: "Zoë 🦖" } });
    expect(events[2]!.data).toBe('{"path":"/a",\n"data":{"b":1}}');
    expect(events[3]).toMatchObject({ data: "no-space", lastEventId: "7" });
  });

  it("gives the same events for any split, inside CRLF or a multi-byte character (property)", () => {
    const data = bytes(FIREBASE_STREAM);
    const whole = run([data]);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 20 }), (cuts) => {
        expect(run(split(data, cuts))).toEqual(whole);
      }),
      { numRuns: 500 },
    );
    for (let i = 0; i <= data.length; i++) expect(run(split(data, [i]))).toEqual(whole);
  });

  it("does not dispatch an event until its blank line arrives", () => {
    expect(run([bytes("event: put\ndata: 1\n")])).toEqual([]);
  });

  it("bounds an event's size with a typed error", () => {
    const huge = bytes(`event: put\ndata: ${"x".repeat(200)}\n\n`);
    expect(() => run([huge], 100)).toThrow(ProtocolError);
    expect(() => run([huge], 100)).toThrow(/larger than 100 bytes/);
    expect(run([huge, huge], 1000)).toHaveLength(2); // the bound is per event, not per stream
  });

  it("never throws anything but ProtocolError on random bytes (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (pieces) => {
        try {
          run(pieces, 128);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
