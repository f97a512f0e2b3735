/**
 * The local cloud's OAuth token endpoint for service accounts, driven with JWTs that Node's crypto signs (a peer,
 * not the firmware's signer): each rule Google documents for the JWT bearer grant, its error shape, and the access
 * token's standing in the database. Google's rules: https://developers.google.com/identity/protocols/oauth2/service-account
 * (exp "a maximum of 1 hour after the issued time"; aud "always https://oauth2.googleapis.com/token"; errors as
 * {"error", "error_description"}); the database scopes: https://firebase.google.com/docs/database/rest/auth.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFirebaseEmulator, type FirebaseEmulator } from "../../../../host-tools/cloud/firebase/index.ts";
import { ServiceAccounts, type ServiceAccountKeyFile } from "../../../../host-tools/cloud/firebase/service-accounts.ts";

const SCOPES = "https://www.googleapis.com/auth/firebase.database https://www.googleapis.com/auth/userinfo.email";
let dataDir: string;
let emulator: FirebaseEmulator;
let key: ServiceAccountKeyFile;
let nowSec: number;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
function jwt(claims: Record<string, unknown>, options: { header?: Record<string, unknown>; privateKey?: string } = {}): string {
  const unsigned = `${b64(options.header ?? { alg: "RS256", typ: "JWT" })}.${b64(claims)}`;
  return `${unsigned}.${crypto.sign("RSA-SHA256", Buffer.from(unsigned), options.privateKey ?? key.private_key).toString("base64url")}`;
}
const claims = (overrides: Record<string, unknown> = {}) => ({ iss: key.client_email, scope: SCOPES, aud: "https://oauth2.googleapis.com/token", iat: nowSec, exp: nowSec + 3600, ...overrides });
async function token(body: Record<string, string>, options: { path?: string } = {}) {
  const response = await fetch(`${emulator.authUrl}${options.path ?? "/token"}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(body).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
const grant = (assertion: string) => token({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion });

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-oauth-"));
  nowSec = Math.floor(Date.now() / 1000);
  emulator = await startFirebaseEmulator({ databasePort: 0, authPort: 0, dataDir, now: () => nowSec * 1000 });
  key = emulator.serviceAccounts.createKey("device-writer", `${emulator.authUrl}/token`);
});
afterAll(async () => {
  await emulator.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("the token endpoint (POST /token, grant_type jwt-bearer)", () => {
  it("issues a Bearer access token for a good assertion, at /token and /oauth2.googleapis.com/token", async () => {
    for (const at of ["/token", "/oauth2.googleapis.com/token"]) {
      const answer = await token({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: jwt(claims()) }, { path: at });
      expect(answer).toMatchObject({ status: 200, body: { token_type: "Bearer", expires_in: 3600, access_token: expect.stringMatching(/^ya29\./) } });
    }
    // The endpoint's own address is an accepted audience too (the token_uri the local key files carry).
    expect((await grant(jwt(claims({ aud: key.token_uri })))).status).toBe(200);
  });

  it.each([
    ["a wrong grant_type", { grant_type: "refresh_token", assertion: "x" }, "unsupported_grant_type", "Invalid grant_type: refresh_token"],
    ["no assertion", { grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer" }, "invalid_request", "Missing required parameter: assertion"],
    ["an assertion that is no JWT", { grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: "abc.def" }, "invalid_grant", /^Invalid JWT: the assertion is not a JWT/],
  ])("answers %s in Google's error shape", async (_name, body, error, description) => {
    const answer = await token(body as Record<string, string>);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe(error);
    expect(answer.body.error_description).toMatch(description);
  });

  it("checks the signature against the account's own keys", async () => {
    const stranger = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(await grant(jwt(claims(), { privateKey: stranger }))).toEqual({ status: 400, body: { error: "invalid_grant", error_description: "Invalid JWT Signature." } });
    expect((await grant(jwt(claims(), { header: { alg: "none" } }))).body.error_description).toMatch(/alg must be RS256/);
    const unsigned = jwt(claims()).replace(/\.[^.]+$/, ".");
    expect((await grant(unsigned)).body.error_description).toBe("Invalid JWT Signature.");
    // A second key of the same account works, by its kid or without one.
    const second = emulator.serviceAccounts.createKey("device-writer", key.token_uri);
    expect((await grant(jwt(claims(), { privateKey: second.private_key, header: { alg: "RS256", typ: "JWT", kid: second.private_key_id } }))).status).toBe(200);
    expect((await grant(jwt(claims(), { privateKey: second.private_key }))).status).toBe(200);
    expect((await grant(jwt(claims({ iss: "nobody@demo-esplab.iam.gserviceaccount.com" })))).body).toEqual({ error: "invalid_grant", error_description: "Invalid grant: account not found" });
  });

  it("checks aud, and iat/exp at most an hour apart within five minutes of now", async () => {
    expect((await grant(jwt(claims({ aud: "https://www.googleapis.com/oauth2/v4/token" })))).body.error_description).toMatch(/^Invalid JWT: Failed audience check/);
    const shortLived = /^Invalid JWT: Token must be a short-lived token \(60 minutes\) and in a reasonable timeframe/;
    expect((await grant(jwt(claims({ exp: nowSec + 3601 })))).body.error_description).toMatch(shortLived);
    expect((await grant(jwt(claims({ exp: nowSec })))).body.error_description).toMatch(shortLived);
    expect((await grant(jwt(claims({ iat: nowSec + 400, exp: nowSec + 4000 })))).body.error_description).toMatch(shortLived);
    expect((await grant(jwt(claims({ iat: nowSec - 4000, exp: nowSec - 400 })))).body.error_description).toMatch(shortLived);
    expect((await grant(jwt(claims({ iat: "now" })))).body.error_description).toMatch(shortLived);
    // Inside the skew allowance either way.
    expect((await grant(jwt(claims({ iat: nowSec + 200, exp: nowSec + 3800 })))).status).toBe(200);
    expect((await grant(jwt(claims({ iat: nowSec - 3700, exp: nowSec - 100 })))).status).toBe(200);
  });

  it("wants a scope, and the database wants its two scopes of the token", async () => {
    expect((await grant(jwt(claims({ scope: "" })))).body).toEqual({ error: "invalid_scope", error_description: "Invalid OAuth scope or ID token audience provided." });
    const narrow = (await grant(jwt(claims({ scope: "https://www.googleapis.com/auth/devstorage.read_only" })))).body.access_token as string;
    const refused = await fetch(`${emulator.databaseUrl}/a.json?ns=t&access_token=${narrow}`);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: string }).error).toMatch(/lacks the scopes https:\/\/www\.googleapis\.com\/auth\/firebase\.database and https:\/\/www\.googleapis\.com\/auth\/userinfo\.email/);
    const full = (await grant(jwt(claims()))).body.access_token as string;
    expect((await fetch(`${emulator.databaseUrl}/a.json?ns=t&access_token=${full}`, { method: "PUT", body: "1" })).status).toBe(200);
    // An access token is no ID token: as ?auth= it is refused.
    expect((await fetch(`${emulator.databaseUrl}/a.json?ns=t&auth=${full}`)).status).toBe(401);
  });

  it("learns accounts another process adds to the data directory while it runs (the CLI's create)", async () => {
    const cli = new ServiceAccounts("demo-esplab", dataDir);
    const added = cli.createKey("second-device", key.token_uri);
    expect(fs.statSync(path.join(dataDir, "service-accounts.json")).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(dataDir, "service-accounts.json"), "utf8")).not.toContain("PRIVATE KEY");
    const answer = await grant(jwt(claims({ iss: added.client_email }), { privateKey: added.private_key }));
    expect(answer.status).toBe(200);
    cli.delete("second-device");
    expect((await grant(jwt(claims({ iss: added.client_email }), { privateKey: added.private_key }))).body.error_description).toBe("Invalid grant: account not found");
  });

  it("names the rules for an account name", () => {
    expect(() => emulator.serviceAccounts.createKey("Bad_Name", key.token_uri)).toThrow(/6–30 lowercase letters, digits and hyphens, starting with a letter/);
  });
});
