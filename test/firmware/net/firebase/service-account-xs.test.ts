/**
 * The service-account credential inside the real XS engine (xsnap-worker, with the built-ins frozen as Moddable's
 * linker freezes them): it parses the PKCS#8 key, signs the JWT and writes the token request; the bytes it writes go
 * to the local cloud's token endpoint over a socket, the answer goes back in, and the access token it yields then
 * opens the database. The RS256 signature is also checked against Node's crypto.sign for the same key and bytes.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFirebaseEmulator, type FirebaseEmulator } from "../../../../host-tools/cloud/firebase/index.ts";
import type { ServiceAccountKeyFile } from "../../../../host-tools/cloud/firebase/service-accounts.ts";
import { XsnapWorker } from "../../../../host-tools/xs/xsnap-worker.ts";
import { bundleXsScript } from "../../../support/xs-script.ts";

const ROOT = path.resolve(import.meta.dirname, "../../../..");

/** Sends raw request bytes and returns the raw response once all of it has arrived (by Content-Length, or chunked). */
function exchange(port: number, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
    let received = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(received.subarray(0, end).toString())?.[1];
      const chunked = end >= 0 && /transfer-encoding: chunked/i.test(received.subarray(0, end).toString());
      const complete = chunked ? received.subarray(end).includes("\r\n0\r\n\r\n") : length !== undefined && received.length >= end + 4 + Number(length);
      if (end >= 0 && complete) {
        socket.end();
        resolve(received);
      }
    });
    socket.on("error", reject);
  });
}

describe("the service-account credential inside the real XS engine", () => {
  let dataDir: string;
  let emulator: FirebaseEmulator;
  let key: ServiceAccountKeyFile;
  const worker = new XsnapWorker();
  const lastJson = () => JSON.parse(worker.output.filter((line) => line.startsWith("{")).at(-1)!) as Record<string, unknown>;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-sa-xs-"));
    emulator = await startFirebaseEmulator({ databasePort: 0, authPort: 0, dataDir, rules: { rules: { ".read": false, ".write": false } } });
    key = emulator.serviceAccounts.createKey("xs-device", `${emulator.authUrl}/token`);
  });
  afterAll(async () => {
    await worker.close();
    await emulator?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("signs as Node does, gets an access token from the local cloud, and the database takes it", async () => {
    const script = await bundleXsScript(`
      import { ServiceAccountCredential } from "${ROOT}/firmware/net/firebase/service-account.ts";
      import { HttpClient } from "${ROOT}/firmware/net/http/client.ts";
      import { parseRsaPrivateKeyPem } from "${ROOT}/firmware/crypto/rsa-key.ts";
      import { signRs256 } from "${ROOT}/firmware/crypto/rsa-sign.ts";
      import { utf8Encode } from "${ROOT}/firmware/core/utf8.ts";

      const KEY = ${JSON.stringify(JSON.stringify(key))};
      globalThis.outbox = [];
      const transport = {
        async connect(target, handlers) {
          globalThis.wire = handlers;
          return { write(bytes) { for (const b of bytes) outbox.push(b); }, close() {} };
        },
      };
      const clock = { now: () => 0, epochMs: () => ${Date.now()}, delay() {}, setTimeout: () => ({}), setInterval: () => ({}), clear() {} };
      const sa = new ServiceAccountCredential({ key: KEY, http: new HttpClient({ transport, clock }), clock });
      const out = { signature: Array.from(signRs256(parseRsaPrivateKeyPem(JSON.parse(KEY).private_key), utf8Encode("esplab.xs"))) };
      try { parseRsaPrivateKeyPem("-----BEGIN PRIVATE KEY-----\\nMIIB*\\n-----END PRIVATE KEY-----"); } catch (e) { out.bad = { name: e.name, code: e.code }; }
      print(JSON.stringify(out));
      sa.getAccessToken().then(
        (token) => print(JSON.stringify({ token, fetches: sa.fetchCount })),
        (error) => print(JSON.stringify({ error: String(error) })),
      );
    `);
    await worker.evaluate(script);
    const first = lastJson();
    expect(Buffer.from(first.signature as number[]).equals(crypto.sign("RSA-SHA256", Buffer.from("esplab.xs"), key.private_key))).toBe(true);
    expect(first.bad).toEqual({ name: "KeyFormatError", code: "BAD_PRIVATE_KEY" });

    // What XS wrote: Google's form POST to the key's token_uri.
    await worker.evaluate("print(JSON.stringify({ request: outbox }))");
    const request = Buffer.from(lastJson().request as number[]);
    const text = request.toString("latin1");
    expect(text).toMatch(/^POST \/token HTTP\/1\.1\r\n/);
    expect(text).toMatch(/\r\ncontent-type: application\/x-www-form-urlencoded\r\n/i);
    expect(text).toMatch(/\r\n\r\ngrant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=[\w-]+\.[\w-]+\.[\w-]+$/);

    const response = await exchange(Number(new URL(emulator.authUrl).port), request);
    expect(response.toString("latin1")).toMatch(/^HTTP\/1\.1 200/);
    await worker.evaluate(`wire.onData(Uint8Array.from(${JSON.stringify(Array.from(response))}))`);
    const answer = lastJson();
    expect(answer).toMatchObject({ token: expect.stringMatching(/^ya29\./), fetches: 1 });

    const write = await fetch(`${emulator.databaseUrl}/from-xs.json?ns=default&access_token=${answer.token as string}`, { method: "PUT", body: '"signed in XS"' });
    expect(write.status).toBe(200);
    expect((await fetch(`${emulator.databaseUrl}/from-xs.json?ns=default`)).status).toBe(401); // the rules (set for the "default" namespace at start) refuse anyone else
  }, 60_000);
});
