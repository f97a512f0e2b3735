import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startFirebaseEmulator, type FirebaseEmulator } from "../../../../host-tools/cloud/firebase/index.ts";
import { REFRESH_TOKENS_PER_USER } from "../../../../host-tools/cloud/firebase/auth-server.ts";
import { startLocalCloud, DEMO_USER } from "../../../../host-tools/cloud/index.ts";

// Firebase: "Refresh tokens expire only when … the user is deleted, the user is disabled, a major account change is
// detected for the user (password or email address updates)" — https://firebase.google.com/docs/auth/admin/manage-sessions
// Change password: POST accounts:update {idToken, password, returnSecureToken} — https://firebase.google.com/docs/reference/rest/auth#section-change-password

describe("Auth identity across restarts", () => {
  const dirs: string[] = [];
  let emulator: FirebaseEmulator | undefined;
  let clock = 1_800_000_000_000;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-auth-"));
    dirs.push(dir);
    return dir;
  };
  const restart = async (dataDir: string) => {
    await emulator?.close();
    emulator = await startFirebaseEmulator({ databasePort: 0, authPort: 0, dataDir, now: () => clock, rules: { rules: { ".read": "auth != null", ".write": "auth != null" } } });
  };
  const accounts = async (method: string, body: object) => {
    const response = await fetch(`${emulator!.authUrl}/identitytoolkit.googleapis.com/v1/accounts:${method}?key=k`, { method: "POST", body: JSON.stringify(body) });
    return (await response.json()) as Record<string, any>;
  };
  const refresh = async (token: string) => {
    const response = await fetch(`${emulator!.authUrl}/securetoken.googleapis.com/v1/token?key=k`, { method: "POST", body: `grant_type=refresh_token&refresh_token=${token}` });
    const body = (await response.json()) as Record<string, any>;
    return body.error ? `error ${body.error.message}` : (body.id_token as string);
  };
  const readWith = async (idToken: string) => (await fetch(`${emulator!.databaseUrl}/x.json?auth=${idToken}`)).status;

  it("keeps the signing key and the users: an ID token from before a restart works until it expires, and so does its refresh token", async () => {
    const dataDir = tempDir();
    await restart(dataDir);
    const created = await accounts("signUp", { email: "dev@example.com", password: "secret12", returnSecureToken: true });
    expect(await readWith(created.idToken)).toBe(200);
    await restart(dataDir);
    expect(await readWith(created.idToken)).toBe(200);
    expect((await accounts("lookup", { idToken: created.idToken })).users[0]).toMatchObject({ localId: created.localId, email: "dev@example.com" });
    expect((await accounts("signInWithPassword", { email: "dev@example.com", password: "secret12" })).localId).toBe(created.localId);
    clock += 3600 * 1000; // the ID token's hour is over
    await restart(dataDir);
    expect(await readWith(created.idToken)).toBe(401);
    const fresh = await refresh(created.refreshToken);
    expect(await readWith(fresh)).toBe(200);
    expect(fs.statSync(path.join(dataDir, "auth-signing-key.pem")).mode & 0o077).toBe(0);
    expect(fs.readFileSync(path.join(dataDir, "auth.json"), "utf8")).not.toContain(created.refreshToken);
  });

  it("keeps at most REFRESH_TOKENS_PER_USER refresh tokens a user, evicting the oldest", async () => {
    const dataDir = tempDir();
    await restart(dataDir);
    const created = await accounts("signUp", { email: "many@example.com", password: "secret12" });
    const tokens: string[] = [created.refreshToken];
    for (let i = 0; i < REFRESH_TOKENS_PER_USER + 4; i++) tokens.push((await accounts("signInWithPassword", { email: "many@example.com", password: "secret12" })).refreshToken);
    await restart(dataDir);
    expect(emulator!.auth.refreshTokenCount(created.localId)).toBe(REFRESH_TOKENS_PER_USER);
    const evicted = tokens.length - REFRESH_TOKENS_PER_USER;
    for (const token of tokens.slice(0, evicted)) expect(await refresh(token)).toBe("error INVALID_REFRESH_TOKEN");
    for (const token of tokens.slice(evicted)) expect(await refresh(token)).not.toMatch(/^error/);
  });

  it("revokes refresh tokens on a password change, an email change and deletion; a disabled user gets USER_DISABLED", async () => {
    const dataDir = tempDir();
    await restart(dataDir);
    const user = await accounts("signUp", { email: "a@example.com", password: "secret12" });
    const changed = await accounts("update", { idToken: user.idToken, password: "another12", returnSecureToken: true });
    expect(changed).toMatchObject({ kind: "identitytoolkit#SetAccountInfoResponse", localId: user.localId, email: "a@example.com", idToken: expect.any(String), refreshToken: expect.any(String) });
    expect(await refresh(user.refreshToken)).toBe("error INVALID_REFRESH_TOKEN");
    expect((await accounts("signInWithPassword", { email: "a@example.com", password: "secret12" })).error.message).toBe("INVALID_PASSWORD");
    expect((await accounts("update", { idToken: user.idToken, password: "123" })).error.message).toBe("WEAK_PASSWORD : Password should be at least 6 characters");
    await restart(dataDir);
    expect(await refresh(changed.refreshToken)).not.toMatch(/^error/);
    const moved = await accounts("update", { idToken: changed.idToken, email: "b@example.com", returnSecureToken: true });
    expect(await refresh(changed.refreshToken)).toBe("error INVALID_REFRESH_TOKEN");
    expect((await accounts("signInWithPassword", { email: "b@example.com", password: "another12" })).localId).toBe(user.localId);
    emulator!.auth.disableUser(user.localId);
    expect(await refresh(moved.refreshToken)).toBe("error USER_DISABLED");

    const other = await accounts("signUp", { email: "c@example.com", password: "secret12" });
    expect(await accounts("delete", { idToken: other.idToken })).toEqual({ kind: "identitytoolkit#DeleteAccountResponse" });
    await restart(dataDir);
    expect(await refresh(other.refreshToken)).toBe("error INVALID_REFRESH_TOKEN");
    expect(emulator!.auth.refreshTokenCount(other.localId)).toBe(0);
  });

  it("reads an auth.json from before (refresh tokens in clear, unbounded), and refuses an unreadable one with what to do", async () => {
    const dataDir = tempDir();
    const old = { users: [{ uid: "u1", provider: "anonymous" }], refreshTokens: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`old-token-${i}`, "u1"])) };
    fs.writeFileSync(path.join(dataDir, "auth.json"), JSON.stringify(old));
    await restart(dataDir);
    expect(emulator!.auth.refreshTokenCount("u1")).toBe(REFRESH_TOKENS_PER_USER);
    expect(await refresh("old-token-0")).toBe("error INVALID_REFRESH_TOKEN");
    expect(await refresh("old-token-29")).not.toMatch(/^error/);
    await emulator!.close();
    emulator = undefined;
    fs.writeFileSync(path.join(dataDir, "auth.json"), '{"users": [');
    await expect(restart(dataDir)).rejects.toThrow(/auth\.json is not readable \(.*\): .*restore it from a backup, or move it away to start with no users/);
  });

  it("saves the demo user on a fresh data directory", async () => {
    const dataDir = path.join(tempDir(), "fresh", ".esplab", "cloud");
    const cloud = await startLocalCloud({ databasePort: 0, authPort: 0, mqttPort: 0, dataDir });
    await cloud.close();
    await restart(dataDir);
    expect((await accounts("signInWithPassword", { email: DEMO_USER.email, password: DEMO_USER.password })).email).toBe(DEMO_USER.email);
  });
});
