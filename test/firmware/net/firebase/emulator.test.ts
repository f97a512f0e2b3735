/**
 * The device client against esplab's local Firebase emulator (host-tools/cloud/firebase), over real sockets and the
 * real clock: every operation, the ordering rules, the prefix-query idiom, token expiry during a stream, and a stream
 * that survives the emulator restarting.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FirebaseAuth } from "../../../../firmware/net/firebase/auth.ts";
import type { JsonValue } from "../../../../firmware/net/firebase/ordering.ts";
import { query } from "../../../../firmware/net/firebase/query.ts";
import { Database, DatabaseError } from "../../../../firmware/net/firebase/rtdb.ts";
import type { Change } from "../../../../firmware/net/firebase/stream.ts";
import { increment, serverTimestamp } from "../../../../firmware/net/firebase/values.ts";
import { HttpClient } from "../../../../firmware/net/http/client.ts";
import { MemoryStorage } from "../../../../host-tools/platform/file-storage.ts";
import { NodeTransport } from "../../../../host-tools/platform/node-transport.ts";
import { SystemClock } from "../../../../host-tools/platform/system-clock.ts";

interface Emulator {
  databaseUrl: string;
  authUrl: string;
  close(): Promise<void>;
}
type Start = (options: { databasePort: number; authPort: number; idTokenLifetimeSec?: number; dataDir?: string; databaseSecrets?: string[] }) => Promise<Emulator>;
/** A made-up legacy database secret the emulator is told to accept (no real credential). */
const SECRET = "example-database-secret-0123456789";

const EMULATOR_DIR = path.resolve(import.meta.dirname, "../../../../host-tools/cloud/firebase");
const candidates = ["index.ts", "emulator.ts"].map((file) => path.join(EMULATOR_DIR, file)).filter((file) => fs.existsSync(file));
let start: Start | undefined;
for (const file of candidates) {
  const module = (await import(file)) as { startFirebaseEmulator?: Start };
  if (module.startFirebaseEmulator) start = module.startFirebaseEmulator;
}

const NS = "esplab-test";
const hostPort = (url: string) => url.replace(/^https?:\/\//, "").replace(/[/?].*$/, "");
const withNs = (url: string) => (url.includes("ns=") ? url : `${url.replace(/\/+$/, "")}?ns=${NS}`);
const waitFor = async (condition: () => boolean, ms: number) => {
  const until = Date.now() + ms;
  while (!condition() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  return condition();
};

describe.skipIf(!start)("RTDB and Auth clients against the local emulator", () => {
  let emulator: Emulator;
  let dataDir: string;
  const clock = new SystemClock();
  const clients: HttpClient[] = [];
  const newHttp = () => {
    const http = new HttpClient({ transport: new NodeTransport(), clock });
    clients.push(http);
    return http;
  };
  const admin = () => new Database({ databaseUrl: withNs(emulator.databaseUrl), http: newHttp(), clock, accessToken: "owner" });
  const newAuth = () =>
    new FirebaseAuth({ apiKey: "emulator-key", http: newHttp(), clock, storage: new MemoryStorage(), emulatorHost: hostPort(emulator.authUrl), refreshAheadMs: 500 });

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-fb-"));
    emulator = await start!({ databasePort: 0, authPort: 0, idTokenLifetimeSec: 3, dataDir, databaseSecrets: [SECRET] });
    const rules = {
      rules: {
        open: { ".read": true, ".write": true, ".indexOn": ["name", "height"] },
        devices: { $uid: { ".read": "auth != null && auth.uid === $uid", ".write": "auth != null && auth.uid === $uid" } },
      },
    };
    const response = await fetch(`${emulator.databaseUrl.replace(/[?].*$/, "").replace(/\/+$/, "")}/.settings/rules.json?ns=${NS}`, {
      method: "PUT",
      headers: { Authorization: "Bearer owner" },
      body: JSON.stringify(rules),
    });
    expect(response.status, await response.text()).toBe(200);
  });
  afterAll(async () => {
    for (const http of clients) http.close();
    await emulator?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("does every operation", async () => {
    const db = admin();
    await db.set("open/ops", { a: 1, b: { c: 2 } });
    const key = await db.push("open/ops/list", { n: 1 });
    await db.update("open/ops", { "b/c": 3, "b/d": 4, a: null });
    await db.set("open/ops/quiet", true, { silent: true });
    await db.set("open/ops/at", serverTimestamp());
    await db.set("open/ops/count", increment(2));
    await db.set("open/ops/count", increment(3));
    const value = (await db.get("open/ops")) as Record<string, JsonValue>;
    expect(value.b).toEqual({ c: 3, d: 4 });
    expect(value.a).toBeUndefined();
    expect(value.list).toEqual({ [key]: { n: 1 } });
    expect(value.quiet).toBe(true);
    expect(value.count).toBe(5);
    expect(Math.abs((value.at as number) - Date.now())).toBeLessThan(60_000);
    expect(await db.get("open/ops", { shallow: true })).toEqual({ b: true, list: true, quiet: true, at: true, count: true });
    await db.remove("open/ops/list");
    expect(await db.get("open/ops/list")).toBeNull();
  });

  it("does ETag-conditional writes and transactions", async () => {
    const db = admin();
    await db.set("open/cas", 1);
    const { etag } = await db.getWithETag("open/cas");
    expect(await db.setIfMatch("open/cas", 2, etag)).toMatchObject({ ok: true });
    expect(await db.setIfMatch("open/cas", 3, etag)).toMatchObject({ ok: false, value: 2 });
    expect(await db.setIfMatch("open/new", 1, "null_etag")).toMatchObject({ ok: true });
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => admin().transaction("open/cas", (n) => (n as number) + 1)));
    expect(results.every((r) => r.committed)).toBe(true);
    expect(await db.get("open/cas")).toBe(7);
  });

  it("returns queries in Firebase's order, with int-like keys", async () => {
    const db = admin();
    const mixed = { k1: { v: "b" }, k2: { v: 3 }, k3: { v: true }, k4: { other: 1 }, k5: { v: false }, k6: { v: { x: 1 } }, k7: { v: -1 }, k8: { v: "B" } };
    await db.set("open/mixed", mixed);
    expect((await db.query("open/mixed", query().orderByChild("v"))).map(([k]) => k)).toEqual(["k4", "k5", "k3", "k7", "k2", "k8", "k1", "k6"]);
    await db.set("open/keys", { b: 1, "10": 1, "2": 1, "-1": 1, a: 1, "2147483648": 1, "01x": 1 });
    expect((await db.query("open/keys", query().orderByKey())).map(([k]) => k)).toEqual(["-1", "2", "10", "01x", "2147483648", "a", "b"]);
    await db.set("open/values", { x: 3, y: 1, z: 3, w: "1" });
    expect(await db.query("open/values", query().orderByValue().startAfter(1).limitToFirst(2))).toEqual([["x", 3], ["z", 3]]);
    expect(await db.query("open/values", query().orderByValue().limitToLast(1))).toEqual([["w", "1"]]);
  });

  it("answers the prefix-query idiom (startAt / endAt with \\uf8ff)", async () => {
    const db = admin();
    await db.set("open/people", { p1: { name: "abby" }, p2: { name: "abe" }, p3: { name: "ac" }, p4: { name: "ab" }, p5: { name: "Abe" } });
    const found = await db.query("open/people", query().orderByChild("name").startAt("ab").endAt("ab\uf8ff"));
    expect(found.map(([k]) => k)).toEqual(["p4", "p1", "p2"]);
    expect(await db.query("open/people", query().orderByChild("name").startsWith("ab"))).toEqual(found);
  });

  // https://firebase.google.com/docs/reference/rest/database, "Priorities": read and written at /.priority.json, and
  // {".value", ".priority"} in a PUT; children then order by them under orderBy="$priority".
  it("reads and writes priorities, and orders by them", async () => {
    const db = admin();
    await db.setWithPriority("open/prio/a", { n: 1 }, 3);
    await db.setWithPriority("open/prio/b", "plain", 1);
    await db.set("open/prio/c", true);
    await db.setPriority("open/prio/c", 2);
    expect(await db.getPriority("open/prio/a")).toBe(3);
    expect(await db.getPriority("open/prio/c")).toBe(2);
    expect(await db.get("open/prio/b")).toBe("plain");
    expect(await db.query("open/prio", query().orderByPriority())).toEqual([["b", "plain"], ["c", true], ["a", { n: 1 }]]);
    expect(await db.query("open/prio", query().orderByPriority().startAt(2))).toEqual([["c", true], ["a", { n: 1 }]]);
    await db.setPriority("open/prio/a", null);
    expect(await db.getPriority("open/prio/a")).toBeNull();
    await expect(db.setPriority("open/prio/a", Number.NaN)).rejects.toThrow(/priority .* must be a string, a finite number or null/);
  });

  it("streams a query's window: children entering and leaving it", async () => {
    const db = admin();
    await db.set("open/board", { a: { score: 5 }, b: { score: 9 }, c: { score: 1 } });
    let latest: JsonValue = null;
    const stream = db.listen("open/board", { onChange: (_changes, value) => void (latest = value) }, { query: query().orderByChild("score").limitToLast(2) });
    try {
      expect(await waitFor(() => JSON.stringify(latest) === JSON.stringify({ a: { score: 5 }, b: { score: 9 } }), 5000)).toBe(true);
      await db.set("open/board/d", { score: 7 }); // d enters, a leaves
      expect(await waitFor(() => JSON.stringify(latest) === JSON.stringify({ b: { score: 9 }, d: { score: 7 } }), 5000)).toBe(true);
      await db.set("open/board/c", { score: 2 }); // outside the window: nothing changes
      await db.set("open/board/b", { score: 10 });
      expect(await waitFor(() => JSON.stringify(latest) === JSON.stringify({ b: { score: 10 }, d: { score: 7 } }), 5000)).toBe(true);
    } finally {
      stream.close();
    }
  });

  it("takes a legacy database secret as full access past the rules, and names a refused one", async () => {
    const secretDb = new Database({ databaseUrl: withNs(emulator.databaseUrl), http: newHttp(), clock, databaseSecret: SECRET });
    await secretDb.set("devices/someone-else/x", 1); // the rules allow only the owner's uid here
    expect(await secretDb.get("devices/someone-else/x")).toBe(1);
    const wrong = new Database({ databaseUrl: withNs(emulator.databaseUrl), http: newHttp(), clock, databaseSecret: "not-the-secret" });
    await expect(wrong.get("devices/someone-else/x")).rejects.toThrow(/401.*the database secret was refused/);
  });

  it("signs in, is refused by rules without auth, and maps Auth errors", async () => {
    const auth = newAuth();
    const user = await auth.signInAnonymously();
    const db = new Database({ databaseUrl: withNs(emulator.databaseUrl), http: newHttp(), clock, auth });
    await db.set(`devices/${user.uid}/hello`, "world");
    expect(await db.get(`devices/${user.uid}/hello`)).toBe("world");
    const anonymous = new Database({ databaseUrl: withNs(emulator.databaseUrl), http: newHttp(), clock });
    const refused = await anonymous.get(`devices/${user.uid}`).catch((e) => e);
    expect(refused).toBeInstanceOf(DatabaseError);
    expect(refused.status).toBe(401);
    await expect(newAuth().signInWithPassword("nobody@example.com", "nope")).rejects.toMatchObject({
      authCode: expect.stringMatching(/EMAIL_NOT_FOUND|INVALID_LOGIN_CREDENTIALS/),
    });
    const dead = newAuth();
    dead.useTokens({ refreshToken: "not-a-refresh-token" });
    await expect(dead.getIdToken()).rejects.toMatchObject({ authCode: expect.stringMatching(/INVALID_REFRESH_TOKEN|INVALID_GRANT/) });
  });

  it("keeps a stream alive across ID-token expiry (3 s tokens)", async () => {
    const auth = newAuth();
    const user = await auth.signInAnonymously();
    const db = new Database({ databaseUrl: withNs(emulator.databaseUrl), http: newHttp(), clock, auth });
    await db.set(`devices/${user.uid}/n`, 0);
    const seen: Change[] = [];
    const stream = db.listen(`devices/${user.uid}`, { onChange: (changes) => seen.push(...changes) }, { backoff: { initialMs: 100, maxMs: 500 } });
    expect(await waitFor(() => stream.status === "live", 5000)).toBe(true);
    for (let n = 1; n <= 3; n++) {
      await new Promise((r) => setTimeout(r, 2000));
      await db.set(`devices/${user.uid}/n`, n); // the write itself refreshes the token when it is about to expire
      expect(await waitFor(() => seen.some((c) => c.path === "/n" && c.value === n), 5000), `change ${n} arrived`).toBe(true);
    }
    expect(auth.refreshCount).toBeGreaterThanOrEqual(2);
    expect(stream.value).toEqual({ n: 3 });
    stream.close();
  }, 30_000);

  it("resyncs a stream after the emulator restarts on the same port with its data", async () => {
    const db = admin();
    await db.set("open/restart", { a: 1, b: 2 });
    const seen: Change[] = [];
    const stream = db.listen("open/restart", { onChange: (changes) => seen.push(...changes) }, { backoff: { initialMs: 100, maxMs: 300, jitter: 0 } });
    expect(await waitFor(() => stream.status === "live", 5000)).toBe(true);
    const port = Number(hostPort(emulator.databaseUrl).split(":").pop());
    const authPort = Number(hostPort(emulator.authUrl).split(":").pop());
    await emulator.close();
    expect(await waitFor(() => stream.status === "reconnecting", 5000)).toBe(true);
    emulator = await start!({ databasePort: port, authPort, idTokenLifetimeSec: 3, dataDir, databaseSecrets: [SECRET] });
    expect(await waitFor(() => stream.status === "live", 10_000)).toBe(true);
    await admin().set("open/restart/b", 20);
    expect(await waitFor(() => seen.some((c) => c.path === "/b" && c.value === 20), 5000)).toBe(true);
    expect(stream.value).toEqual({ a: 1, b: 20 });
    expect(seen.filter((c) => c.path === "/a")).toEqual([]); // unchanged data is not reported again after the resync
    stream.close();
  }, 30_000);
});
