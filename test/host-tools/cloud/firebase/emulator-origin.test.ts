import { afterEach, describe, expect, it } from "vitest";
import { startFirebaseEmulator, type FirebaseEmulator } from "../../../../host-tools/cloud/firebase/index.ts";

let emulator: FirebaseEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

describe("the Firebase emulator answers browsers on this computer only, and overrides methods only on POST", () => {
  it("refuses a foreign Origin before doing anything, and reflects this computer's pages", async () => {
    emulator = await startFirebaseEmulator({ databasePort: 0, authPort: 0 });
    const db = emulator.databaseUrl;
    const foreign = await fetch(`${db}/x.json?ns=demo`, { method: "PUT", headers: { origin: "https://evil.example" }, body: "1" });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    expect(((await foreign.json()) as { error: string }).error).toMatch(/requests from https:\/\/evil\.example are refused/);
    expect(emulator.database.store("demo").root).toBeNull();
    const preflight = await fetch(`${db}/x.json?ns=demo`, { method: "OPTIONS", headers: { origin: "http://evil.example", "access-control-request-method": "PUT" } });
    expect(preflight.status).toBe(403);
    const auth = await fetch(`${emulator.authUrl}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=k`, { method: "POST", headers: { origin: "http://evil.example", "content-type": "application/json" }, body: "{}" });
    expect(auth.status).toBe(403);

    for (const origin of ["http://localhost:5173", "http://127.0.0.1:8080", "http://[::1]:3000"]) {
      const local = await fetch(`${db}/x.json?ns=demo`, { headers: { origin } });
      expect(local.status).toBe(200);
      expect(local.headers.get("access-control-allow-origin")).toBe(origin);
      expect(local.headers.get("vary")).toBe("Origin");
    }
    const plain = await fetch(`${db}/x.json?ns=demo`);
    expect(plain.headers.get("access-control-allow-origin")).toBeNull(); // not a browser: no CORS at all
  });

  it("allows configured origins, or any with [\"*\"] as Firebase's own emulator does", async () => {
    emulator = await startFirebaseEmulator({ databasePort: 0, authPort: 0, corsOrigins: ["https://my-app.example"] });
    expect((await fetch(`${emulator.databaseUrl}/x.json?ns=demo`, { headers: { origin: "https://my-app.example" } })).headers.get("access-control-allow-origin")).toBe("https://my-app.example");
    expect((await fetch(`${emulator.databaseUrl}/x.json?ns=demo`, { headers: { origin: "https://other.example" } })).status).toBe(403);
    await emulator.close();
    emulator = await startFirebaseEmulator({ databasePort: 0, authPort: 0, corsOrigins: ["*"] });
    expect((await fetch(`${emulator.databaseUrl}/x.json?ns=demo`, { headers: { origin: "https://other.example" } })).headers.get("access-control-allow-origin")).toBe("*");
  });

  it("ignores X-HTTP-Method-Override on GET and honours it on POST (header or query parameter)", async () => {
    emulator = await startFirebaseEmulator({ databasePort: 0, authPort: 0 });
    const url = `${emulator.databaseUrl}/keep.json?ns=demo`;
    await fetch(url, { method: "PUT", body: '"safe"' });
    const get = await fetch(url, { headers: { "x-http-method-override": "DELETE" } });
    expect(await get.json()).toBe("safe");
    expect(await (await fetch(`${url}&x-http-method-override=DELETE`)).json()).toBe("safe");
    expect(await (await fetch(url)).json()).toBe("safe");
    await fetch(url, { method: "POST", headers: { "x-http-method-override": "PUT" }, body: '"changed"' });
    expect(await (await fetch(url)).json()).toBe("changed");
    await fetch(`${url}&x-http-method-override=DELETE`, { method: "POST" });
    expect(await (await fetch(url)).json()).toBeNull();
  });
});
