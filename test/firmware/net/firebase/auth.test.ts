import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UsageError } from "../../../../firmware/core/errors.ts";
import { HttpClient } from "../../../../firmware/net/http/client.ts";
import { HttpProtocolError } from "../../../../firmware/net/http/errors.ts";
import { authCodeOf, authErrorFor, FirebaseAuthError } from "../../../../firmware/net/firebase/auth-errors.ts";
import { authEmulatorEndpoints, FirebaseAuth } from "../../../../firmware/net/firebase/auth.ts";
import { base64UrlDecode, decodeJwtPayload } from "../../../../firmware/net/firebase/jwt.ts";
import { loadLongString, saveLongString } from "../../../../firmware/net/firebase/token-store.ts";
import { MemoryStorage } from "../../../../host-tools/platform/file-storage.ts";
import { NodeTransport } from "../../../../host-tools/platform/node-transport.ts";
import { VirtualClock } from "../../../../host-tools/platform/virtual-clock.ts";
import { FakeAuthServer } from "./fake-auth-server.ts";

let server: FakeAuthServer;
let host: string;
let clock: VirtualClock;
let storage: MemoryStorage;
let http: HttpClient;

beforeEach(async () => {
  server = new FakeAuthServer();
  host = await server.start();
  clock = new VirtualClock({ epochMs: 1_700_000_000_000 });
  server.nowSec = () => Math.floor(clock.epochMs()! / 1000);
  storage = new MemoryStorage();
  http = new HttpClient({ transport: new NodeTransport(), clock });
  server.users.set("dev@example.com", { password: "secret1", uid: "u1" });
});
afterEach(async () => {
  http.close();
  await server.close();
});

const newAuth = () => new FirebaseAuth({ apiKey: "test-key", http, clock, storage, emulatorHost: host });

describe("FirebaseAuth", () => {
  it("signs in with email and password against the emulator paths and persists the refresh token", async () => {
    const auth = newAuth();
    const user = await auth.signInWithPassword("dev@example.com", "secret1");
    expect(user.uid).toBe("u1");
    expect(await auth.getIdToken()).toBe(user.idToken);
    const stored = loadLongString(storage, "fbauth", "rt");
    expect(stored).toMatch(/^rt-u1-/);
    expect(stored!.length).toBeGreaterThan(280);

    const rebooted = newAuth();
    expect(rebooted.restore()).toBe(true);
    expect(rebooted.uid).toBe("u1");
    const token = await rebooted.getIdToken();
    expect(decodeJwtPayload(token).user_id).toBe("u1");
    expect(server.refreshes).toBe(1);
  });

  it("signs in anonymously and with a custom token", async () => {
    const auth = newAuth();
    expect((await auth.signInAnonymously()).uid).toMatch(/^anon/);
    expect((await auth.signInWithCustomToken("custom:device7")).uid).toBe("device7");
  });

  it("refreshes 5 minutes ahead of expiry, once for many concurrent callers", async () => {
    const auth = newAuth();
    const first = (await auth.signInWithPassword("dev@example.com", "secret1")).idToken;
    await clock.advance(54 * 60_000);
    expect(await auth.getIdToken()).toBe(first);
    await clock.advance(60_001);
    const tokens = await Promise.all([auth.getIdToken(), auth.getIdToken(), auth.getIdToken()]);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(first);
    expect(server.refreshes).toBe(1);
    expect(auth.refreshCount).toBe(1);
  });

  it("refreshes after invalidate (a 401 or auth_revoked)", async () => {
    const auth = newAuth();
    const first = (await auth.signInWithPassword("dev@example.com", "secret1")).idToken;
    auth.invalidate();
    expect(await auth.getIdToken()).not.toBe(first);
    expect(server.refreshes).toBe(1);
  });

  it("in ID-token mode uses the given token until it nears expiry, and never needs a password", async () => {
    const seed = newAuth();
    const minted = await seed.signInWithPassword("dev@example.com", "secret1");
    const refreshToken = loadLongString(storage, "fbauth", "rt")!;
    const device = new FirebaseAuth({ apiKey: "test-key", http, clock, storage: new MemoryStorage(), emulatorHost: host });
    device.useTokens({ idToken: minted.idToken, refreshToken });
    expect(device.uid).toBe("u1");
    expect(await device.getIdToken()).toBe(minted.idToken);
    expect(server.refreshes).toBe(0);
    await clock.advance(56 * 60_000);
    expect(await device.getIdToken()).not.toBe(minted.idToken);
    expect(server.refreshes).toBe(1);
  });

  it("in ID-token mode without a set wall clock refreshes first, since the token's age is unknown", async () => {
    const seed = newAuth();
    const minted = await seed.signInWithPassword("dev@example.com", "secret1");
    const unsetClock = new VirtualClock();
    const device = new FirebaseAuth({ apiKey: "test-key", http, clock: unsetClock, emulatorHost: host });
    device.useTokens({ idToken: minted.idToken, refreshToken: loadLongString(storage, "fbauth", "rt")! });
    expect(await device.getIdToken()).not.toBe(minted.idToken);
    expect(server.refreshes).toBe(1);
  });

  it("keeps using a still-valid token when an early refresh fails for a passing reason", async () => {
    const auth = newAuth();
    const first = (await auth.signInWithPassword("dev@example.com", "secret1")).idToken;
    await clock.advance(56 * 60_000);
    server.failNext.push({ status: 503, body: "<html>busy</html>", contentType: "text/html" });
    expect(await auth.getIdToken()).toBe(first);
    expect(await auth.getIdToken()).not.toBe(first);
  });

  it("maps every Auth error to a message with the fix", async () => {
    const auth = newAuth();
    await expect(auth.signInWithPassword("nobody@example.com", "x")).rejects.toThrow(/EMAIL_NOT_FOUND: no user has this email/);
    await expect(auth.signInWithPassword("dev@example.com", "wrong")).rejects.toMatchObject({ authCode: "INVALID_PASSWORD", permanent: true });
    server.users.set("off@example.com", { password: "p", uid: "u2", disabled: true });
    await expect(auth.signInWithPassword("off@example.com", "p")).rejects.toThrow(/USER_DISABLED: .*enable it in the Firebase console/);
    await expect(auth.signInWithCustomToken("forged")).rejects.toThrow(/INVALID_CUSTOM_TOKEN: .*mint a fresh one/);
    const badKey = new FirebaseAuth({ apiKey: "wrong", http, clock, emulatorHost: host });
    await expect(badKey.signInAnonymously()).rejects.toThrow(/INVALID_API_KEY: the API key is not valid: copy the Web API key/);
    server.failNext.push({ status: 400, body: JSON.stringify({ error: { code: 400, message: "TOO_MANY_ATTEMPTS_TRY_LATER : Access disabled" } }) });
    await expect(auth.signInAnonymously()).rejects.toThrow(/TOO_MANY_ATTEMPTS_TRY_LATER: .*wait a few minutes/);

    for (const code of ["INVALID_LOGIN_CREDENTIALS", "CREDENTIAL_MISMATCH", "TOKEN_EXPIRED", "INVALID_REFRESH_TOKEN"]) {
      const error = authErrorFor("signing in", 400, code);
      expect(error).toBeInstanceOf(FirebaseAuthError);
      expect(error.message).toMatch(new RegExp(`${code}: .{20,}`));
    }
    expect(authCodeOf("WEAK_PASSWORD : Password should be at least 6 characters")).toBe("WEAK_PASSWORD");
  });

  it("drops a dead refresh token so the next boot does not retry it", async () => {
    const auth = newAuth();
    auth.useTokens({ refreshToken: "revoked-token" });
    await expect(auth.getIdToken()).rejects.toThrow(/INVALID_REFRESH_TOKEN: .*sign in again/);
    expect(loadLongString(storage, "fbauth", "rt")).toBeUndefined();
    expect(newAuth().restore()).toBe(false);
  });

  it("names an HTML page or non-JSON body from a wrong host", async () => {
    const wrong = new FirebaseAuth({ apiKey: "test-key", http, clock, endpoints: { identityToolkit: `http://${host}/wrong/v1`, secureToken: `http://${host}/x` } });
    await expect(wrong.signInAnonymously()).rejects.toThrow(/HTTP 404: an HTML page titled "404 Not Found"/);
    server.failNext.push({ status: 200, body: "not json" });
    await expect(newAuth().signInAnonymously()).rejects.toThrow(HttpProtocolError);
  });

  it("refuses bad configuration and tokens with UsageError", () => {
    expect(() => new FirebaseAuth({ apiKey: "", http, clock })).toThrow(UsageError);
    expect(() => newAuth().useTokens({ idToken: "abc", refreshToken: "r" })).toThrow(/not a JWT/);
    expect(authEmulatorEndpoints("127.0.0.1:9099").identityToolkit).toBe("http://127.0.0.1:9099/identitytoolkit.googleapis.com/v1");
  });
});

describe("jwt and token storage helpers", () => {
  it("decodes base64url with and without padding", () => {
    for (const text of ["", "f", "fo", "foo", "foob", "\u00ff\u00fe?>"]) {
      const encoded = Buffer.from(text, "latin1").toString("base64url");
      expect(Buffer.from(base64UrlDecode(encoded)!).toString("latin1")).toBe(text);
      expect(Buffer.from(base64UrlDecode(Buffer.from(text, "latin1").toString("base64"))!).toString("latin1")).toBe(text);
    }
    expect(base64UrlDecode("a*b")).toBeUndefined();
  });

  it("splits a value longer than NVS's 4000 bytes over several keys", () => {
    const store = new MemoryStorage();
    const long = "é".repeat(2500); // 5000 bytes
    saveLongString(store, "fbauth", "rt", long);
    expect(loadLongString(store, "fbauth", "rt")).toBe(long);
    saveLongString(store, "fbauth", "rt", "short");
    expect(loadLongString(store, "fbauth", "rt")).toBe("short");
    expect(store.keys("fbauth").sort()).toEqual(["rt#", "rt0"]);
  });
});
