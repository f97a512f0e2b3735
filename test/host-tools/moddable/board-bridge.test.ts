import fc from "fast-check";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BoardBridge } from "../../../host-tools/moddable/board-bridge.ts";
import type { HostCalls } from "../../../host-tools/runtime/host-calls.ts";

/** Frames as linux/board.c writes them: a 4-byte big-endian length, then the kind byte and the payload. */
function frame(kind: string, json: string): Buffer {
  const body = Buffer.from(`${kind}${json}`, "utf8");
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length);
  return Buffer.concat([header, body]);
}

/** Reads the bridge's frames back as [kind, json] pairs. */
function readFrames(bytes: Buffer): [string, string][] {
  const out: [string, string][] = [];
  for (let at = 0; at + 4 <= bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    out.push([String.fromCharCode(bytes[at + 4]!), bytes.subarray(at + 5, at + 4 + length).toString("utf8")]);
    at += 4 + length;
  }
  return out;
}

describe("the host's end of the virtual board's wire to Moddable's runtime", () => {
  let bridge: BoardBridge;
  // Answers each request with its own text, so the order of the answers can be checked.
  const calls = { handle: (request: Uint8Array) => Buffer.from(JSON.stringify({ ok: true, value: Buffer.from(request).toString("utf8") })) } as unknown as HostCalls;
  beforeAll(async () => {
    bridge = await BoardBridge.open(() => calls);
  });
  afterAll(() => bridge.close());

  async function exchange(pieces: Buffer[], expectReplies: number): Promise<{ frames: [string, string][]; closed: boolean }> {
    const socket = net.connect(bridge.path);
    await new Promise((resolve) => socket.once("connect", resolve));
    let received = Buffer.alloc(0);
    let closed = false;
    socket.on("data", (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    socket.on("close", () => (closed = true));
    for (const piece of pieces) socket.write(piece);
    for (let waited = 0; readFrames(received).filter(([kind]) => kind === "r").length < expectReplies && !closed && waited < 2000; waited += 5) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const frames = readFrames(received);
    socket.destroy();
    return { frames, closed };
  }

  it("answers every request in order however the bytes are split (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ maxLength: 40 }), { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 7 }), { maxLength: 30 }), async (requests, cuts) => {
        const bytes = Buffer.concat(requests.map((request) => frame("q", JSON.stringify({ op: "echo", args: request }))));
        const pieces: Buffer[] = [];
        let at = 0;
        for (const cut of cuts) {
          if (at >= bytes.length) break;
          pieces.push(bytes.subarray(at, at + cut));
          at += cut;
        }
        if (at < bytes.length) pieces.push(bytes.subarray(at));
        const { frames } = await exchange(pieces, requests.length);
        const replies = frames.filter(([kind]) => kind === "r").map(([, json]) => JSON.parse(JSON.parse(json).value).args);
        expect(replies).toEqual(requests);
      }),
      { numRuns: 40 },
    );
  });

  it("hangs up on a frame with no length or an absurd one, without throwing", async () => {
    expect((await exchange([Buffer.from([0, 0, 0, 0, 0x71])], 1)).closed).toBe(true);
    expect((await exchange([Buffer.from([0xff, 0xff, 0xff, 0xff, 0x71])], 1)).closed).toBe(true);
  });

  it("keeps events for the firmware until it connects, then sends them first", async () => {
    bridge.deliver("edge", 7);
    const { frames } = await exchange([frame("q", '{"op":"config"}')], 1);
    expect(frames[0]).toEqual(["e", '{"event":"edge","args":[7]}']);
    expect(frames[1]![0]).toBe("r");
  });
});
