/**
 * A service account on the device against the local cloud, over real sockets, with virtual time shared by the device
 * and the emulator: the device signs its JWT, gets an access token at the emulator's /token, and reads and writes the
 * database as the administrator, past rules that refuse everyone else; it replaces the token ahead of expiry and after
 * a 401, and each refusal is a typed error that names the fix.
 *
 * The protocol as Google and Firebase document it:
 * - https://developers.google.com/identity/protocols/oauth2/service-account ("Using OAuth 2.0 for Server to Server
 *   Applications"): JWT header {"alg":"RS256","typ":"JWT"}; claims iss (the client_email), scope (space-delimited),
 *   aud "https://oauth2.googleapis.com/token", iat, exp "a maximum of 1 hour after the issued time"; POSTed form-encoded
 *   as grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>; the answer {access_token, expires_in,
 *   token_type: "Bearer"}; refusals {"error": "invalid_grant", "error_description": …}.
 * - https://firebase.google.com/docs/database/rest/auth ("Authenticate REST Requests"): access tokens with the scopes
 *   https://www.googleapis.com/auth/userinfo.email and https://www.googleapis.com/auth/firebase.database give "full read
 *   and write access", past the Realtime Database Rules; sent as `access_token=<TOKEN>` or `Authorization: Bearer`
 *   (https://firebase.google.com/docs/reference/rest/database/user-auth).
 * - The descriptions Google sends ("Invalid JWT Signature.", "Invalid grant: account not found", "Invalid JWT: Failed
 *   audience check…", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe…") as
 *   its client libraries' users report them, e.g. googleapis/google-api-php-client#1501, appsup-dart/firebase_admin#14,
 *   nithinmurali/pygsheets#500.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connectFirebase, firebaseConfigFrom } from "../../../../firmware/net/firebase/connect.ts";
import { Database, DatabaseError } from "../../../../firmware/net/firebase/rtdb.ts";
import { ServiceAccountCredential } from "../../../../firmware/net/firebase/service-account.ts";
import { ServiceAccountError } from "../../../../firmware/net/firebase/service-account-errors.ts";
import { HttpClient } from "../../../../firmware/net/http/client.ts";
import { startFirebaseEmulator, type FirebaseEmulator } from "../../../../host-tools/cloud/firebase/index.ts";
import { SIGNING_KEY_FILE } from "../../../../host-tools/cloud/firebase/tokens.ts";
import type { ServiceAccountKeyFile } from "../../../../host-tools/cloud/firebase/service-accounts.ts";
import { NodeTransport } from "../../../../host-tools/platform/node-transport.ts";
import { VirtualClock } from "../../../../host-tools/platform/virtual-clock.ts";

const NS = "sa-test";
const MINUTE = 60_000;
let dataDir: string;
let emulator: FirebaseEmulator;
let clock: VirtualClock;
let http: HttpClient;
let key: ServiceAccountKeyFile;

const hostOf = (url: string) => url.replace(/^http:\/\//, "");
const start = (ports: { databasePort: number; authPort: number } = { databasePort: 0, authPort: 0 }) =>
  startFirebaseEmulator({ ...ports, dataDir, now: () => Math.floor(clock.epochMs()!), rules: { rules: { ".read": false, ".write": false } } });
const credential = (overrides: Partial<ConstructorParameters<typeof ServiceAccountCredential>[0]> = {}) =>
  new ServiceAccountCredential({ key, http, clock, ...overrides });
const database = (auth?: ServiceAccountCredential) => new Database({ databaseUrl: `${emulator.databaseUrl}?ns=${NS}`, http, clock, auth });

beforeEach(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-sa-"));
  clock = new VirtualClock({ epochMs: Date.now() });
  emulator = await start();
  http = new HttpClient({ transport: new NodeTransport(), clock });
  key = emulator.serviceAccounts.createKey("device-writer", `${emulator.authUrl}/token`);
  // The default namespace got the closed rules at start; this one gets them too.
  const response = await fetch(`${emulator.databaseUrl}/.settings/rules.json?ns=${NS}`, {
    method: "PUT",
    headers: { Authorization: "Bearer owner" },
    body: JSON.stringify({ rules: { ".read": false, ".write": false } }),
  });
  expect(response.status).toBe(200);
});
afterEach(async () => {
  http.close();
  await emulator.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("a service account on the device, against the local cloud", () => {
  it("gets an access token and reads and writes as the administrator, past rules that refuse everyone", async () => {
    const sa = credential();
    const db = database(sa);
    await db.set("devices/d1", { reading: 21.5 });
    await db.update("devices/d1", { "meta/by": "service account" });
    expect(await db.get("devices/d1")).toEqual({ reading: 21.5, meta: { by: "service account" } });
    expect(sa.fetchCount).toBe(1);
    const token = await sa.getAccessToken();
    expect(token).toMatch(/^ya29\./);
    // The same rules refuse a request without the token, and the token works as Authorization: Bearer too.
    await expect(database().get("devices/d1")).rejects.toMatchObject({ status: 401 });
    const bearer = await fetch(`${emulator.databaseUrl}/devices/d1/reading.json?ns=${NS}`, { headers: { Authorization: `Bearer ${token}` } });
    expect(await bearer.json()).toBe(21.5);
  });

  it("sends Google's JWT: RS256 over iss, scope, aud, iat and exp an hour apart", async () => {
    const sa = credential();
    const iat = Math.floor(clock.epochMs()! / 1000);
    const [header, claims, signature] = sa.assertion(iat).split(".");
    expect(JSON.parse(Buffer.from(header!, "base64url").toString())).toEqual({ alg: "RS256", typ: "JWT", kid: key.private_key_id });
    expect(JSON.parse(Buffer.from(claims!, "base64url").toString())).toEqual({
      iss: key.client_email,
      scope: "https://www.googleapis.com/auth/firebase.database https://www.googleapis.com/auth/userinfo.email",
      aud: key.token_uri,
      iat,
      exp: iat + 3600,
    });
    const publicKey = crypto.createPublicKey(key.private_key);
    expect(crypto.verify("RSA-SHA256", Buffer.from(`${header}.${claims}`), publicKey, Buffer.from(signature!, "base64url"))).toBe(true);
  });

  it("replaces the token 5 minutes before it expires, once however many requests ask (virtual time)", async () => {
    const sa = credential();
    const db = database(sa);
    await db.set("n", 0);
    const first = await sa.getAccessToken();
    await clock.advance(54 * MINUTE);
    await db.set("n", 1);
    expect(sa.fetchCount).toBe(1);
    expect(await sa.getAccessToken()).toBe(first);

    await clock.advance(2 * MINUTE); // 56 minutes: inside the 5-minute window
    await Promise.all([db.set("n", 2), db.get("n"), db.set("m", 1)]);
    expect(sa.fetchCount).toBe(2);
    const second = await sa.getAccessToken();
    expect(second).not.toBe(first);

    // The first token is refused by the server once its hour is over; the device no longer uses it.
    await clock.advance(5 * MINUTE);
    const stale = await fetch(`${emulator.databaseUrl}/n.json?ns=${NS}&access_token=${first}`);
    expect(stale.status).toBe(401);
    expect(await db.get("n")).toBe(2);
    expect(sa.fetchCount).toBe(2);
  });

  it("keeps the accounts and the issued tokens across a restart, and gets a new token after a 401", async () => {
    const sa = credential();
    const db = database(sa);
    await db.set("kept", "before restart");
    const ports = { databasePort: Number(new URL(emulator.databaseUrl).port), authPort: Number(new URL(emulator.authUrl).port) };

    await emulator.close();
    emulator = await start(ports);
    expect(await db.get("kept")).toBe("before restart");
    expect(sa.fetchCount).toBe(1); // the token issued before the restart is still good

    // A new signing key (as if the data directory's key were lost): the device's unexpired token is refused with a 401;
    // the database client invalidates it, the credential signs a new JWT, and the request goes through.
    await emulator.close();
    fs.rmSync(path.join(dataDir, SIGNING_KEY_FILE));
    emulator = await start(ports);
    expect(await db.get("kept")).toBe("before restart");
    expect(sa.fetchCount).toBe(2);
  });

  it("refuses a key the local cloud does not know: Invalid JWT Signature, with the fix named", async () => {
    const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    const other = credential({ key: { ...key, private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString() } });
    const error = await other.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceAccountError);
    expect(error).toMatchObject({ code: "SERVICE_ACCOUNT_INVALID_GRANT", status: 400, serverMessage: "Invalid JWT Signature.", permanent: true });
    expect((error as Error).message).toMatch(/does not accept this key .* make a new key \(Firebase console → Project settings → Service accounts → Generate new private key; for the local cloud, npx esplab cloud service-account create NAME\)/);

    emulator.serviceAccounts.delete("device-writer");
    await expect(credential().getAccessToken()).rejects.toThrow(/no service account device-writer@demo-esplab\.iam\.gserviceaccount\.com exists in this project.*"Invalid grant: account not found"/);
  });

  it("refuses a JWT for another audience, naming token_uri", async () => {
    const elsewhere = credential({ key: { ...key, token_uri: "https://oauth2.example.com/token" }, emulatorHost: hostOf(emulator.authUrl) });
    await expect(elsewhere.getAccessToken()).rejects.toThrow(
      /the JWT's audience "https:\/\/oauth2\.example\.com\/token" is not this token endpoint: set token_uri to the key file's token_uri .*Failed audience check/,
    );
    // Google's own token URI is an accepted audience, with the request sent to the emulator.
    const google = credential({ key: { ...key, token_uri: "https://oauth2.googleapis.com/token" }, emulatorHost: hostOf(emulator.authUrl) });
    expect(await google.getAccessToken()).toMatch(/^ya29\./);
  });

  it("refuses an expired assertion from a device whose clock is two hours behind, and says to set the clock", async () => {
    const behind = new VirtualClock({ epochMs: clock.epochMs()! - 120 * MINUTE });
    const late = new ServiceAccountCredential({ key, http, clock: behind });
    const error = await late.getAccessToken().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "SERVICE_ACCOUNT_CLOCK_SKEW", permanent: false });
    expect((error as Error).message).toMatch(/outside its window — the device's clock is wrong: set it by SNTP before connecting.*short-lived token \(60 minutes\)/);

    const unset = new ServiceAccountCredential({ key, http, clock: new VirtualClock() });
    await expect(unset.getAccessToken()).rejects.toMatchObject({ code: "SERVICE_ACCOUNT_CLOCK_NOT_SET", message: expect.stringMatching(/clock is not set yet: set it \(SNTP\)/) });
  });

  it("keeps using its token while a renewal fails for a passing reason, until it expires", async () => {
    const sa = credential();
    const db = database(sa);
    await db.set("n", 1);
    emulator.auth.close(); // the token endpoint goes away; the database stays
    await new Promise((resolve) => emulator.auth.server.once("close", resolve));
    await clock.advance(57 * MINUTE);
    expect(await db.get("n")).toBe(1); // renewal failed (connection refused), the current token still serves
    await clock.advance(4 * MINUTE);
    // Expired: the failure to renew surfaces, as the transport's error rather than a refusal by the database.
    const error = await db.get("n").catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(DatabaseError);
    expect(error).toMatchObject({ name: "TransportError", message: expect.stringMatching(/refused|ECONNREFUSED/i) });
  });

  it("is what connectFirebase uses when the configuration has firebase_client_email and firebase_private_key", async () => {
    const config = firebaseConfigFrom({
      firebase_database_url: `${emulator.databaseUrl}?ns=${NS}`,
      firebase_auth_emulator_host: hostOf(emulator.authUrl),
      firebase_client_email: key.client_email,
      firebase_private_key: key.private_key.replace(/\n/g, "\\n"), // as pasted from the JSON file, \n unparsed
    });
    const connection = await connectFirebase({ transport: new NodeTransport(), clock }, config);
    try {
      expect(connection.auth).toBeUndefined();
      expect(connection.serviceAccount!.fetchCount).toBe(1); // the first token at boot
      await connection.db.set("configured", true);
      expect(await connection.db.get("configured")).toBe(true);
      expect(await connection.db.urlFor("x")).toMatch(/[?&]access_token=ya29\./);
    } finally {
      connection.http.close();
    }
    expect(() => firebaseConfigFrom({ firebase_database_url: "https://d.firebaseio.com", firebase_client_email: key.client_email })).toThrow(
      /a service account needs both firebase_client_email and firebase_private_key \(from its JSON key file\); firebase_private_key is not set/,
    );
  });
});
