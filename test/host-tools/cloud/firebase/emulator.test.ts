import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFirebaseEmulator, type FirebaseEmulator } from "../../../../host-tools/cloud/firebase/index.ts";
import { listen, restClient } from "./rest-client.ts";

const NS = "t";
let emulator: FirebaseEmulator;
const db = restClient(() => emulator, NS);
const signUp = async (body: object = {}) =>
  (await (await fetch(`${emulator.authUrl}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=k`, { method: "POST", body: JSON.stringify(body) })).json()) as {
    idToken: string;
    localId: string;
    refreshToken: string;
  };

beforeAll(async () => {
  emulator = await startFirebaseEmulator({ databasePort: 0, authPort: 0, enforceIndexes: true });
});
afterAll(() => emulator.close());

const open = (p: string) => listen(db, p);

describe("RTDB emulator: streaming a PATCH", () => {
  it("sends one patch event above the patched location and a put inside an updated child, like Firebase", async () => {
    await db("/room.json", { method: "PUT", body: JSON.stringify({ a: { x: 1 }, b: 2 }) });
    const root = await open("/room.json");
    const inside = await open("/room/a/x.json");
    const elsewhere = await open("/room/c.json");
    await expect.poll(() => root.events.length + inside.events.length + elsewhere.events.length).toBe(3);
    await db("/room.json", { method: "PATCH", body: JSON.stringify({ "a/x": 5, b: { deep: true } }) });
    await expect.poll(() => root.events.at(-1)).toBe('patch {"path":"/","data":{"a/x":5,"b":{"deep":true}}}');
    await expect.poll(() => inside.events.at(-1)).toBe('put {"path":"/","data":5}');
    expect(elsewhere.events).toEqual(['put {"path":"/","data":null}']);
    for (const stream of [root, inside, elsewhere]) stream.close();
  });
});

describe("RTDB emulator: validation and errors", () => {
  it.each([
    ["/a.b.json", "PUT", "1", 400, /Invalid path/],
    ["/x.json", "PUT", "{not json", 400, /^Invalid data; couldn't parse JSON object, array, or value\.$/],
    ["/x.json", "PUT", JSON.stringify({ "bad#key": 1 }), 400, /Invalid data; .*key "bad#key" contains a character Firebase forbids/],
    ["/x.json", "PUT", `${'{"a":'.repeat(33)}1${"}".repeat(33)}`, 400, /^Invalid data; path specified exceeds the maximum depth that can be written \(32\)/],
    ["/x", "GET", undefined, 404, /end in \.json/],
  ])("%s %s → %d", async (p, method, body, status, message) => {
    const response = await db(p, { method, body });
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: string }).error).toMatch(message);
  });

  it("refuses shallow combined with a query, like production", async () => {
    const response = await db('/x.json?shallow=true&orderBy="$key"');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe("Shallow parameter cannot be combined with other query parameters");
  });

  // Filtering needs an order: https://firebase.google.com/docs/database/rest/retrieve-data#section-rest-filtering
  // ("you must first specify how you want your data to be filtered using the orderBy parameter"); production answers
  // 400 with this text rather than unfiltered data.
  it.each(["limitToFirst=1", 'equalTo="a"', 'startAt="a"', 'endAt="b"', "limitToLast=1", 'startAfter="a"', 'endBefore="b"'])(
    "refuses %s without orderBy instead of answering unfiltered data",
    async (filter) => {
      await db("/filtered.json", { method: "PUT", body: JSON.stringify({ a: 1, b: 2 }) });
      const response = await db(`/filtered.json?${filter}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe("orderBy must be defined when other query parameters are defined");
      expect((await db('/filtered.json?orderBy="$key"&' + filter)).status).toBe(200);
    },
  );

  // https://firebase.google.com/docs/database/usage/limits: a string is at most 10 MB (UTF-8); a single REST write up to 256 MB.
  it("stores strings up to 10 MB and refuses a longer one, and takes REST writes beyond the SDKs' 16 MB", async () => {
    const nineMb = "x".repeat(9 * 1024 * 1024);
    expect((await db("/limits/nine.json", { method: "PUT", body: JSON.stringify(nineMb) })).status).toBe(200);
    const eleven = await db("/limits/eleven.json", { method: "PUT", body: JSON.stringify({ note: "é".repeat(5.5 * 1024 * 1024) }) });
    expect(eleven.status).toBe(400);
    expect(((await eleven.json()) as { error: string }).error).toMatch(/^the string at \/limits\/eleven\/note is over 10 MB \(UTF-8\)/);
    expect((await db("/limits/eleven.json")).status).toBe(200);
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`p${i}`, "y".repeat(1024 * 1024)])); // 20 MB in 1 MB strings
    expect((await db("/limits/many.json", { method: "PUT", body: JSON.stringify(many) })).status).toBe(200);
  }, 60_000);

  // https://firebase.google.com/docs/reference/rest/database#section-param-format: "format=export: include priority
  // information in the response"; without it an answer carries the values only.
  it("shows priorities only with format=export", async () => {
    const stored = { a: { ".value": 1, ".priority": 5 }, b: { c: 2, ".priority": 3 } };
    expect((await db("/prio.json", { method: "PUT", body: JSON.stringify(stored) })).status).toBe(200);
    expect(await (await db("/prio.json")).json()).toEqual({ a: 1, b: { c: 2 } });
    expect(await (await db("/prio.json?format=export")).json()).toEqual(stored);
    expect(await (await db('/prio.json?orderBy="$priority"')).json()).toEqual({ b: { c: 2 }, a: 1 });
  });

  it("gives production's Index not defined error when asked to enforce indexes", async () => {
    await db("/dinosaurs.json", { method: "PUT", body: JSON.stringify({ t: { height: 4 } }) });
    const response = await db('/dinosaurs.json?orderBy="height"&limitToFirst=1');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('Index not defined, add ".indexOn": "height", for path "/dinosaurs", to the rules');
  });

  it("reads integer-keyed objects back as arrays", async () => {
    await db("/list.json", { method: "PUT", body: JSON.stringify(["a", "b", null, "d"]) });
    expect(await (await db("/list.json")).json()).toEqual(["a", "b", null, "d"]);
  });

  it("never answers a random request with anything but an HTTP status and a JSON error", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "PUT", "POST", "PATCH", "DELETE"),
        fc.string({ maxLength: 30 }),
        fc.oneof(fc.string({ maxLength: 60 }), fc.json({ maxDepth: 4 })),
        fc.constantFrom("", "?orderBy=%22%24key%22", "?shallow=true", "?print=silent", "?limitToFirst=x&orderBy=%22a%22", "?startAt=%7B"),
        async (method, rawPath, body, query) => {
          const safePath = encodeURIComponent(rawPath).replace(/%2F/g, "/");
          const response = await db(`/fuzz/${safePath}.json${query}`, { method, body: method === "GET" ? undefined : body });
          const text = await response.text();
          expect([200, 204, 400, 401, 404, 405, 413]).toContain(response.status);
          if (response.status >= 400) expect(() => JSON.parse(text)).not.toThrow();
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("RTDB emulator: security rules", () => {
  beforeAll(async () => {
    const rules = {
      rules: {
        users: {
          $uid: {
            ".read": "auth != null && auth.uid === $uid",
            ".write": "auth != null && auth.uid === $uid",
            age: { ".validate": "newData.isNumber() && newData.val() >= 0 && newData.val() < 150" },
            name: { ".validate": "newData.isString() && newData.val().length <= 20" },
          },
        },
        board: { ".read": true, ".write": "auth != null && !data.exists()" },
        logs: { $id: { ".validate": "newData.hasChildren(['at', 'text']) && newData.child('at').val() <= now" }, ".write": true, ".read": true },
      },
    };
    const response = await db("/.settings/rules.json", { method: "PUT", body: JSON.stringify(rules) });
    expect(response.status).toBe(200);
  });

  it("lets a user write and read only under their own uid", async () => {
    const alice = await signUp();
    const bob = await signUp();
    expect((await db(`/users/${alice.localId}/name.json`, { method: "PUT", body: '"alice"', auth: "", headers: {} })).status).toBe(401);
    const ok = await fetch(`${emulator.databaseUrl}/users/${alice.localId}/name.json?ns=${NS}&auth=${alice.idToken}`, { method: "PUT", body: '"alice"' });
    expect(ok.status).toBe(200);
    const denied = await fetch(`${emulator.databaseUrl}/users/${alice.localId}.json?ns=${NS}&auth=${bob.idToken}`);
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ error: "Permission denied" });
  });

  it("enforces .validate with newData, now and hasChildren", async () => {
    const user = await signUp();
    const put = (p: string, body: unknown) => fetch(`${emulator.databaseUrl}${p}.json?ns=${NS}&auth=${user.idToken}`, { method: "PUT", body: JSON.stringify(body) });
    expect((await put(`/users/${user.localId}/age`, 30)).status).toBe(200);
    expect((await put(`/users/${user.localId}/age`, 200)).status).toBe(401);
    expect((await put(`/users/${user.localId}/age`, "old")).status).toBe(401);
    expect((await put(`/users/${user.localId}/name`, "x".repeat(21))).status).toBe(401);
    expect((await put("/logs/1", { at: Date.now() - 1000, text: "ok" })).status).toBe(200);
    expect((await put("/logs/2", { at: Date.now() + 60_000, text: "future" })).status).toBe(401);
    expect((await put("/logs/3", { at: 1 })).status).toBe(401);
  });

  it("grants with data.exists(): write once", async () => {
    const user = await signUp();
    const put = () => fetch(`${emulator.databaseUrl}/board/slot.json?ns=${NS}&auth=${user.idToken}`, { method: "PUT", body: '"taken"' });
    expect((await put()).status).toBe(200);
    expect((await put()).status).toBe(401);
  });

  it("refuses rules that do not parse, naming the location", async () => {
    const response = await db("/.settings/rules.json", { method: "PUT", body: JSON.stringify({ rules: { a: { ".read": "auth.uid ===" } } }) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/^Invalid rules: \/a\/\.read/);
  });
});

describe("Auth emulator", () => {
  const call = async (method: string, body: object) => {
    const response = await fetch(`${emulator.authUrl}/identitytoolkit.googleapis.com/v1/accounts:${method}?key=k`, { method: "POST", body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  it("signs up, signs in, refreshes and reports Google's error codes", async () => {
    expect((await call("signUp", { email: "a@b.co", password: "123" })).body.error.message).toBe("WEAK_PASSWORD : Password should be at least 6 characters");
    const created = await call("signUp", { email: "dev@example.com", password: "secret12", returnSecureToken: true });
    expect(created.body).toMatchObject({ email: "dev@example.com", expiresIn: "3600", localId: expect.any(String) });
    expect((await call("signUp", { email: "dev@example.com", password: "secret12" })).body.error.message).toBe("EMAIL_EXISTS");
    expect((await call("signInWithPassword", { email: "dev@example.com", password: "nope" })).body.error.message).toBe("INVALID_PASSWORD");
    expect((await call("signInWithPassword", { email: "who@example.com", password: "nope" })).body.error.message).toBe("EMAIL_NOT_FOUND");
    const signedIn = await call("signInWithPassword", { email: "dev@example.com", password: "secret12" });
    expect(signedIn.status).toBe(200);
    const refreshed = await fetch(`${emulator.authUrl}/securetoken.googleapis.com/v1/token?key=k`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `grant_type=refresh_token&refresh_token=${signedIn.body.refreshToken}`,
    });
    expect(await refreshed.json()).toMatchObject({ id_token: expect.any(String), user_id: signedIn.body.localId, expires_in: "3600" });
    emulator.auth.revokeRefreshTokens(signedIn.body.localId);
    const revoked = await fetch(`${emulator.authUrl}/securetoken.googleapis.com/v1/token`, { method: "POST", body: `grant_type=refresh_token&refresh_token=${signedIn.body.refreshToken}` });
    expect(((await revoked.json()) as { error: { message: string } }).error.message).toBe("INVALID_REFRESH_TOKEN");
  });

  it("gives a contested email to one sign-up only while the passwords hash concurrently (off the event loop)", async () => {
    // Each sign-up waits for its scrypt hash on the thread pool; all ten are in flight at once.
    const attempts = await Promise.all(Array.from({ length: 10 }, (_, i) => call("signUp", { email: "race@example.com", password: `secret-${i}` })));
    const winners = attempts.filter((attempt) => attempt.status === 200);
    expect(winners).toHaveLength(1);
    expect(attempts.filter((attempt) => attempt.body.error?.message === "EMAIL_EXISTS")).toHaveLength(9);
    const password = `secret-${attempts.indexOf(winners[0]!)}`;
    expect((await call("signInWithPassword", { email: "race@example.com", password })).status).toBe(200);
    // a password change hashes the same way, and the old password stops working
    const changed = await call("update", { idToken: winners[0]!.body.idToken, password: "changed-1" });
    expect(changed.status).toBe(200);
    expect((await call("signInWithPassword", { email: "race@example.com", password })).body.error.message).toBe("INVALID_PASSWORD");
    expect((await call("signInWithPassword", { email: "race@example.com", password: "changed-1" })).status).toBe(200);
  });

  it("accepts unsigned custom tokens with a uid, as the emulator does", async () => {
    const token = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify({ uid: "device-7" })).toString("base64url")}.`;
    expect((await call("signInWithCustomToken", { token })).body.localId).toBe("device-7");
    expect((await call("signInWithCustomToken", { token: "garbage" })).body.error.message).toBe("INVALID_CUSTOM_TOKEN");
  });
});

describe("crash durability", () => {
  it("keeps every acknowledged write through kill -9, and drops a torn last record", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-crash-"));
    const main = path.resolve(import.meta.dirname, "../../../../host-tools/cloud/firebase/main.ts");
    const start = () =>
      new Promise<{ child: ReturnType<typeof spawn>; databaseUrl: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", main, dataDir], { stdio: ["ignore", "pipe", "inherit"] });
        child.stdout!.once("data", (line: Buffer) => resolve({ child, databaseUrl: (JSON.parse(line.toString()) as { databaseUrl: string }).databaseUrl }));
        child.once("error", reject);
      });
    const first = await start();
    const acknowledged: number[] = [];
    for (let i = 0; i < 50; i++) {
      const response = await fetch(`${first.databaseUrl}/crash/r${i}.json?ns=c`, { method: "PUT", body: String(i), headers: { Authorization: "Bearer owner" } });
      if (response.status === 200) acknowledged.push(i);
    }
    first.child.kill("SIGKILL");
    await new Promise((resolve) => first.child.once("exit", resolve));
    fs.appendFileSync(path.join(dataDir, "c.log"), '{"set":["crash","torn"],"val'); // a write cut short by the crash
    const second = await start();
    try {
      const stored = (await (await fetch(`${second.databaseUrl}/crash.json?ns=c`, { headers: { Authorization: "Bearer owner" } })).json()) as Record<string, number>;
      expect(acknowledged).toHaveLength(50);
      for (const i of acknowledged) expect(stored[`r${i}`]).toBe(i);
      expect(stored.torn).toBeUndefined();
    } finally {
      second.child.kill("SIGKILL");
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});
