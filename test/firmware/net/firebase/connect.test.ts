import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connectFirebase, firebaseConfigFrom } from "../../../../firmware/net/firebase/connect.ts";
import { MemoryStorage } from "../../../../host-tools/platform/file-storage.ts";
import { NodeTransport } from "../../../../host-tools/platform/node-transport.ts";
import { VirtualClock } from "../../../../host-tools/platform/virtual-clock.ts";
import { FakeAuthServer } from "./fake-auth-server.ts";

let server: FakeAuthServer;
let host: string;
beforeEach(async () => {
  server = new FakeAuthServer();
  host = await server.start();
  server.users.set("dev@example.com", { password: "pw1234", uid: "u1" });
});
afterEach(() => server.close());

describe("connectFirebase", () => {
  it("reads the flat config keys and refuses a config without a database URL", () => {
    expect(firebaseConfigFrom({ firebase_database_url: "http://127.0.0.1:9000?ns=x", firebase_anonymous: "true", firebase_email: "" })).toMatchObject({
      databaseUrl: "http://127.0.0.1:9000?ns=x",
      anonymous: true,
      email: undefined,
    });
    expect(() => firebaseConfigFrom({})).toThrow(/firebase_database_url is not set/);
  });

  it("signs in with email/password on first boot and resumes from Storage on the next, without the password", async () => {
    const storage = new MemoryStorage();
    const clock = new VirtualClock({ epochMs: Date.now() });
    const platform = { transport: new NodeTransport(), clock, storage };
    const config = { apiKey: "test-key", databaseUrl: "https://demo-default-rtdb.firebaseio.com", authEmulatorHost: host, databaseEmulatorHost: "127.0.0.1:9000" };
    const first = await connectFirebase(platform, { ...config, email: "dev@example.com", password: "pw1234" });
    expect(first.auth!.uid).toBe("u1");
    expect(first.db.location).toEqual({ base: "http://127.0.0.1:9000", namespace: "demo-default-rtdb", sendNamespace: true });
    first.http.close();
    const second = await connectFirebase(platform, config);
    expect(second.auth!.uid).toBe("u1");
    expect(server.refreshes).toBe(1);
    second.http.close();
  });

  it("uses a configured database secret as ?auth= when no user signs in, and keeps it out of a signed-in session", async () => {
    const platform = { transport: new NodeTransport(), clock: new VirtualClock({ epochMs: Date.now() }), storage: new MemoryStorage() };
    const config = firebaseConfigFrom({ firebase_database_url: "https://d.firebaseio.com", firebase_database_secret: "s3cret-example-value" });
    expect(config.databaseSecret).toBe("s3cret-example-value");
    const bySecret = await connectFirebase(platform, config);
    expect(await bySecret.db.urlFor("a/b")).toBe("https://d.firebaseio.com/a/b.json?auth=s3cret-example-value");
    bySecret.http.close();
    const signedIn = await connectFirebase(platform, { ...config, apiKey: "test-key", authEmulatorHost: host, email: "dev@example.com", password: "pw1234" });
    expect(await signedIn.db.urlFor("a")).not.toContain("s3cret");
    signedIn.http.close();
  });

  it("says how to sign in when an API key is set but no method is", async () => {
    const platform = { transport: new NodeTransport(), clock: new VirtualClock(), storage: new MemoryStorage() };
    await expect(connectFirebase(platform, { apiKey: "test-key", databaseUrl: "https://d.firebaseio.com", authEmulatorHost: host })).rejects.toThrow(
      /no way to sign in: set firebase_refresh_token/,
    );
  });
});
