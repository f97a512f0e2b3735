import { describe, expect, it } from "vitest";
import { UsageError } from "../../../../firmware/core/errors.ts";
import { parseDatabaseUrl } from "../../../../firmware/net/firebase/database-url.ts";
import { query } from "../../../../firmware/net/firebase/query.ts";
import { Database, DatabaseError } from "../../../../firmware/net/firebase/rtdb.ts";
import { increment, serverTimestamp } from "../../../../firmware/net/firebase/values.ts";
import { HttpClient } from "../../../../firmware/net/http/client.ts";
import { VirtualClock } from "../../../../host-tools/platform/virtual-clock.ts";
import { FakeRtdb } from "./fake-rtdb.ts";
import { FakeTokens } from "./fake-tokens.ts";

function setup(auth?: FakeTokens) {
  const server = new FakeRtdb();
  const clock = new VirtualClock();
  const http = new HttpClient({ transport: server.transport, clock });
  const db = new Database({ databaseUrl: "http://127.0.0.1:9000?ns=demo", http, clock, auth });
  return { server, clock, http, db };
}

describe("database URLs", () => {
  it("reads hosted, regional and emulator forms, and honours an emulator host", () => {
    expect(parseDatabaseUrl("https://demo-default-rtdb.firebaseio.com")).toEqual({ base: "https://demo-default-rtdb.firebaseio.com", namespace: "demo-default-rtdb", sendNamespace: false });
    expect(parseDatabaseUrl("https://demo-default-rtdb.europe-west1.firebasedatabase.app/")).toMatchObject({ namespace: "demo-default-rtdb", sendNamespace: false });
    expect(parseDatabaseUrl("http://127.0.0.1:9000?ns=demo")).toEqual({ base: "http://127.0.0.1:9000", namespace: "demo", sendNamespace: true });
    expect(parseDatabaseUrl("https://demo-default-rtdb.firebaseio.com", "localhost:9000")).toEqual({ base: "http://localhost:9000", namespace: "demo-default-rtdb", sendNamespace: true });
    expect(() => parseDatabaseUrl("http://127.0.0.1:9000")).toThrow(/add \?ns=<name>/);
    expect(() => parseDatabaseUrl("https://demo.firebaseio.com/devices")).toThrow(/has a path/);
  });
});

describe("Database (against a small in-memory server)", () => {
  it("does get/set/push/update/remove with ns and auth on the URL", async () => {
    const { server, db } = setup(new FakeTokens());
    await db.set("devices/d1", { temp: 21.5, on: true });
    const key = await db.push("devices/d1/log", { t: 1 });
    expect(key).toMatch(/^-N/);
    await db.update("devices", { "d1/temp": 22, "d2/temp": 18 });
    expect(await db.get("devices")).toEqual({ d1: { temp: 22, on: true, log: { [key]: { t: 1 } } }, d2: { temp: 18 } });
    expect(await db.get("devices", { shallow: true })).toEqual({ d1: true, d2: true });
    await db.remove("devices/d2");
    expect(await db.get("devices/d2")).toBeNull();
    expect(server.requests[0]).toMatch(/^PUT \/devices\/d1\.json\?ns=demo&auth=/);
  });

  it("refreshes the token and retries once on 401", async () => {
    const tokens = new FakeTokens();
    const { server, db } = setup(tokens);
    await db.set("a", 1);
    expect(tokens.refreshes).toBe(1);
    expect(server.requests.map((r) => r.replace(/\?.*auth=/, " auth="))).toEqual(["PUT /a.json auth=stale", "PUT /a.json auth=good"]);
  });

  it("writes with print=silent and sends server values", async () => {
    const { server, db } = setup();
    await db.set("r/count", increment(2), { silent: true });
    await db.set("r/count", increment(3));
    await db.set("r/at", serverTimestamp());
    expect(await db.get("r")).toEqual({ count: 5, at: 1_700_000_000_000 });
    expect(server.requests[0]).toContain("print=silent");
  });

  it("runs a query and returns the children in Firebase order", async () => {
    const { server, db } = setup();
    server.data = { b: { h: 2 }, a: { h: 2 }, c: { h: 1 }, "10": { h: 3 }, "9": { h: 3 } };
    const result = await db.query("", query().orderByChild("h").limitToLast(4));
    expect(result.map(([k]) => k)).toEqual(["a", "b", "9", "10"]);
    expect(server.requests[0]).toContain("orderBy=%22h%22&limitToLast=4");
  });

  it("does conditional writes with ETags and a compare-and-swap transaction", async () => {
    const { server, db } = setup();
    await db.set("counter", 1);
    const { value, etag } = await db.getWithETag("counter");
    expect(value).toBe(1);
    expect(await db.setIfMatch("counter", 2, etag)).toMatchObject({ ok: true });
    const stale = await db.setIfMatch("counter", 3, etag);
    expect(stale).toMatchObject({ ok: false, value: 2 });
    expect(await db.removeIfMatch("counter", etag)).toMatchObject({ ok: false });

    let interfered = false;
    const result = await db.transaction("counter", (current) => {
      if (!interfered) {
        interfered = true;
        server.write("counter", 10); // another writer gets in between read and write
      }
      return (current as number) + 1;
    });
    expect(result).toMatchObject({ committed: true, value: 11, attempts: 2 });
    expect(await db.get("counter")).toBe(11);
    expect(await db.transaction("counter", () => undefined)).toMatchObject({ committed: false, value: 11 });
    await expect(
      db.transaction("counter", (c) => {
        server.write("counter", Math.random());
        return c;
      }, { maxAttempts: 3 }),
    ).rejects.toMatchObject({ code: "TRANSACTION_CONTENDED" });
  });

  it("refuses bad keys, values and paths before sending anything", async () => {
    const { server, db } = setup();
    await expect(db.set("a.b", 1)).rejects.toThrow(UsageError);
    await expect(db.set("ok", { "bad#key": 1 })).rejects.toThrow(/key "bad#key" contains a character Firebase forbids/);
    await expect(db.set("ok", { n: NaN })).rejects.toThrow(/finite numbers/);
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 40; i++) deep = { d: deep };
    await expect(db.set("ok", deep as never)).rejects.toThrow(/deeper than 32/);
    expect(server.requests).toEqual([]);
  });

  it("turns server refusals into DatabaseErrors that name the path and the fix", async () => {
    const { server, db } = setup();
    server.transport.onConnect = (peer) => {
      peer.onReceive = () => {
        for (const _ of peer.takeRequests()) {
          server.send(peer, "400 Bad Request", JSON.stringify({ error: 'Index not defined, add ".indexOn": "height", for path "/dinosaurs", to the rules' }));
        }
      };
    };
    const error = await db.query("dinosaurs", query().orderByChild("height")).catch((e) => e);
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/query \/dinosaurs failed with 400: Index not defined.*add the \.indexOn/);
  });
});
