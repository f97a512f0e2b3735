import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EsplabError } from "../../../../firmware/core/errors.ts";
import { Database } from "../../../../firmware/net/firebase/rtdb.ts";
import { StreamCancelledError, StreamEventError, type Change, type StreamStatus } from "../../../../firmware/net/firebase/stream.ts";
import { HttpClient } from "../../../../firmware/net/http/client.ts";
import { VirtualClock } from "../../../../host-tools/platform/virtual-clock.ts";
import { FakeRtdb } from "./fake-rtdb.ts";
import { FakeTokens } from "./fake-tokens.ts";

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

function setup(options: { auth?: boolean } = {}) {
  const server = new FakeRtdb();
  const clock = new VirtualClock();
  const http = new HttpClient({ transport: server.transport, clock });
  const tokens = new FakeTokens();
  tokens.token = "good";
  const db = new Database({ databaseUrl: "http://127.0.0.1:9000?ns=demo", http, clock, auth: options.auth ? tokens : undefined });
  const seen: Change[][] = [];
  const errors: Error[] = [];
  const statuses: StreamStatus[] = [];
  let cancelled: EsplabError | undefined;
  const listen = (path: string) =>
    db.listen(
      path,
      {
        onChange: (changes) => seen.push(changes),
        onError: (error) => errors.push(error),
        onCancel: (error) => (cancelled = error),
        onStatus: (status) => statuses.push(status),
      },
      { backoff: { initialMs: 1000, maxMs: 8000, jitter: 0 } },
    );
  return { server, clock, db, tokens, seen, errors, statuses, listen, cancelled: () => cancelled };
}

describe("RtdbStream", () => {
  it("syncs, then follows puts and patches (deep paths, null deletes) relative to the location", async () => {
    const t = setup();
    t.server.data = { devices: { d1: { temp: 20, name: "kitchen" } } };
    const stream = t.listen("devices");
    await flush();
    expect(stream.status).toBe("live");
    expect(t.seen).toEqual([[{ path: "/", value: { d1: { temp: 20, name: "kitchen" } } }]]);
    t.server.write("devices/d1/temp", 21);
    await flush();
    expect(t.seen[1]).toEqual([{ path: "/d1/temp", value: 21 }]);
    const peer = t.server.listeners[0]!.peer;
    t.server.event(peer, "patch", { path: "/d1", data: { temp: 22, "extra/deep": 1, name: null } });
    await flush();
    expect([...t.seen[2]!].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: "/d1/extra", value: { deep: 1 } },
      { path: "/d1/name", value: null },
      { path: "/d1/temp", value: 22 },
    ]);
    expect(stream.value).toEqual({ d1: { temp: 22, extra: { deep: 1 } } });
    t.server.event(peer, "put", { path: "/d1/temp", data: 22 }); // no real change: nothing reported
    await flush();
    expect(t.seen).toHaveLength(3);
    stream.close();
  });

  it("stays up while keep-alives arrive and reconnects after 45 s of silence", async () => {
    const t = setup();
    const stream = t.listen("x");
    await flush();
    for (let i = 0; i < 4; i++) {
      await t.clock.advance(30_000);
      t.server.event(t.server.listeners[0]!.peer, "keep-alive", null);
      await flush();
    }
    expect(stream.connects).toBe(1);
    await t.clock.advance(45_000);
    await flush();
    expect(t.errors.map((e) => (e as EsplabError).code)).toEqual(["STREAM_SILENT"]);
    await t.clock.advance(1000);
    await flush();
    expect(stream.connects).toBe(2);
    expect(stream.status).toBe("live");
    stream.close();
  });

  it("resyncs after a dropped connection, reporting exactly what changed meanwhile", async () => {
    const t = setup();
    t.server.data = { a: 1, b: 2, c: 3 };
    const stream = t.listen("");
    await flush();
    t.server.dropStreams();
    await flush();
    expect(stream.status).toBe("reconnecting");
    t.server.write("b", 20); // missed while disconnected
    t.server.write("c", null);
    await t.clock.advance(1000);
    await flush();
    expect(t.seen.slice(1)).toEqual([[{ path: "/b", value: 20 }, { path: "/c", value: null }]]);
    expect(stream.value).toEqual({ a: 1, b: 20 });
    t.server.dropStreams();
    await flush();
    await t.clock.advance(1000);
    await flush();
    expect(t.seen).toHaveLength(2); // nothing changed: nothing reported twice
    stream.close();
  });

  it("backs off between failed reconnects and resets once live", async () => {
    const t = setup();
    const stream = t.listen("x");
    await flush();
    t.server.transport.refuse = true;
    t.server.dropStreams();
    await flush();
    for (const wait of [1000, 2000, 4000]) {
      const before = stream.connects;
      await t.clock.advance(wait - 1);
      await flush();
      expect(stream.connects).toBe(before);
      await t.clock.advance(1);
      await flush();
      expect(stream.connects).toBe(before + 1);
    }
    t.server.transport.refuse = false;
    await t.clock.advance(8000);
    await flush();
    expect(stream.status).toBe("live");
    stream.close();
  });

  it("on auth_revoked reconnects at once with a fresh token", async () => {
    const t = setup({ auth: true });
    const stream = t.listen("x");
    await flush();
    t.server.validTokens = new Set(["good2"]);
    t.tokens.fresh = "good2";
    t.server.event(t.server.listeners[0]!.peer, "auth_revoked", "credential is no longer valid");
    await flush();
    expect(stream.connects).toBe(2);
    expect(stream.status).toBe("live");
    expect(t.server.requests.at(-1)).toContain("auth=good2");
    expect((t.errors[0] as EsplabError).code).toBe("AUTH_REVOKED");
    stream.close();
  });

  it("refreshes once when the stream is refused with 401, then connects", async () => {
    const t = setup({ auth: true });
    t.tokens.token = "stale";
    const stream = t.listen("x");
    await flush();
    expect(stream.status).toBe("live");
    expect(t.tokens.refreshes).toBe(1);
    stream.close();
  });

  it("reports cancel clearly and stops for good", async () => {
    const t = setup();
    const stream = t.listen("secret");
    await flush();
    t.server.event(t.server.listeners[0]!.peer, "cancel", "Permission denied");
    await flush();
    expect(stream.status).toBe("cancelled");
    expect(t.cancelled()?.message).toMatch(/cancelled listening at secret: Permission denied — usually the security rules/);
    await t.clock.advance(120_000);
    await flush();
    expect(stream.connects).toBe(1);
  });

  it("treats a malformed frame as a reason to resync, not to diverge", async () => {
    const t = setup();
    t.server.data = { v: 1 };
    const stream = t.listen("");
    await flush();
    t.server.listeners[0]!.peer.send("event: put\ndata: {not json\n\n");
    await flush();
    expect((t.errors[0] as EsplabError).code).toBe("BAD_STREAM_EVENT");
    t.server.write("v", 2);
    await t.clock.advance(1000);
    await flush();
    expect(stream.value).toEqual({ v: 2 });
    expect(t.seen.at(-1)).toEqual([{ path: "/v", value: 2 }]);
    stream.close();
  });

  it("follows a 307 to the stream host and cancels on a permanent refusal", async () => {
    const t = setup();
    t.server.streamAnswers.push("HTTP/1.1 307 Temporary Redirect\r\nLocation: http://s-usc1.firebaseio.local:9000/x.json?ns=demo\r\nContent-Length: 0\r\n\r\n");
    const stream = t.listen("x");
    await flush();
    expect(stream.status).toBe("live");
    expect(t.server.transport.peers.at(-1)!.target.host).toBe("s-usc1.firebaseio.local");
    stream.close();

    const u = setup();
    u.server.streamAnswers.push(`HTTP/1.1 400 Bad Request\r\nContent-Length: 27\r\n\r\n{"error":"Invalid path: x"}`);
    const refused = u.listen("y");
    await flush();
    expect(refused.status).toBe("cancelled");
    expect(u.cancelled()?.message).toMatch(/refused: .*400.*Invalid path/);
  });

  it("stops with a clear message when an event is larger than the device allows, instead of reconnecting forever", async () => {
    const t = setup();
    t.server.data = { blob: "x".repeat(70 * 1024) };
    const stream = t.listen("");
    await flush();
    expect(stream.status).toBe("cancelled");
    expect(t.cancelled()?.message).toMatch(/larger than 65536 bytes; listen on a smaller subtree or raise maxEventBytes/);
    await t.clock.advance(60_000);
    expect(stream.connects).toBe(1);
  });

  it("stops with STREAM_EVENT_TOO_DEEP on a put whose path has 8,000 segments, and does not reconnect into it", async () => {
    const t = setup();
    const stream = t.listen("");
    await flush();
    t.server.event(t.server.listeners[0]!.peer, "put", { path: "/a".repeat(8000), data: 1 });
    await flush();
    expect(stream.status).toBe("cancelled");
    expect(t.cancelled()).toBeInstanceOf(StreamEventError);
    expect(t.cancelled()?.code).toBe("STREAM_EVENT_TOO_DEEP");
    expect(t.cancelled()?.message).toMatch(/deeper than Firebase's 32 levels; the stream stopped — listen on a part of it/);
    await t.clock.advance(120_000);
    await flush();
    expect(stream.connects).toBe(1);
  });

  it("stops with STREAM_EVENT_TOO_DEEP on data nested 30,000 deep, before JSON.parse sees it", async () => {
    const t = setup();
    const stream = t.listen("");
    await flush();
    const deep = "[".repeat(30_000) + "]".repeat(30_000);
    const parse = JSON.parse;
    let parsed = 0;
    JSON.parse = ((text: string) => (parsed++, parse(text))) as typeof JSON.parse;
    try {
      t.server.listeners[0]!.peer.send(`event: put\ndata: {"path":"/","data":${deep}}\n\n`);
      await flush();
    } finally {
      JSON.parse = parse;
    }
    expect(parsed).toBe(0);
    expect(t.cancelled()?.code).toBe("STREAM_EVENT_TOO_DEEP");
    expect(stream.connects).toBe(1);
  });

  it("takes a value 32 levels below the location, and refuses 33 (path, nesting and patch keys all count)", async () => {
    const t = setup();
    const stream = t.listen("");
    await flush();
    const peer = t.server.listeners[0]!.peer;
    const path = (n: number) => Array.from({ length: n }, (_, i) => `/k${i}`).join("");
    t.server.event(peer, "put", { path: path(31), data: { leaf: 1 } });
    await flush();
    expect(stream.status).toBe("live");
    expect(t.seen.at(-1)).toEqual([{ path: path(31), value: { leaf: 1 } }]);
    t.server.event(peer, "patch", { path: path(20), data: { [path(12).slice(1)]: 2 } });
    await flush();
    expect(stream.status).toBe("live");
    t.server.event(peer, "patch", { path: path(20), data: { [path(13).slice(1)]: 2 } });
    await flush();
    expect(stream.status).toBe("cancelled");
    expect(t.cancelled()?.code).toBe("STREAM_EVENT_TOO_DEEP");

    const u = setup();
    u.listen("");
    await flush();
    u.server.event(u.server.listeners[0]!.peer, "put", { path: path(31), data: { a: { b: 1 } } });
    await flush();
    expect(u.cancelled()?.code).toBe("STREAM_EVENT_TOO_DEEP");
  });

  it("resyncs once after a malformed event, and stops with BAD_STREAM_EVENT when the server sends it again", async () => {
    const t = setup();
    const broken = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\nevent: put\ndata: {\"path\":\"/\",\"data\":{\"v\":\n\n";
    t.server.streamAnswers.push(broken, broken, broken);
    const stream = t.listen("");
    await flush();
    expect(t.errors.map((e) => (e as EsplabError).code)).toEqual(["BAD_STREAM_EVENT"]);
    await t.clock.advance(1000);
    await flush();
    expect(stream.status).toBe("cancelled");
    expect(t.cancelled()).toBeInstanceOf(StreamEventError);
    expect(t.cancelled()?.code).toBe("BAD_STREAM_EVENT");
    expect(t.cancelled()?.message).toMatch(/is not JSON .*again after resyncing; the stream stopped/);
    await t.clock.advance(120_000);
    await flush();
    expect(stream.connects).toBe(2);
  });

  it("survives any event text: it applies it, resyncs or stops, always with a typed error (property)", async () => {
    const piece = fc.constantFrom("{", "}", "[", "]", '"', "\\", ":", ",", '"path"', '"data"', '"/a/b"', "null", "1", "/", "\u2028");
    const text = fc.oneof(fc.string({ maxLength: 80 }), fc.array(piece, { maxLength: 80 }).map((parts) => parts.join("")));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("put", "patch"), text, async (type, data) => {
        const t = setup();
        const stream = t.listen("");
        await flush();
        t.server.listeners[0]!.peer.send(`event: ${type}\ndata: ${data.replace(/[\r\n]/g, " ")}\n\n`);
        await flush();
        for (const error of t.errors) expect(error).toBeInstanceOf(EsplabError);
        if (stream.status === "cancelled") expect(t.cancelled()).toBeInstanceOf(StreamCancelledError);
        stream.close();
      }),
      { numRuns: 300 },
    );
  });
});
