import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { XsnapWorker } from "../../../../host-tools/xs/xsnap-worker.ts";
import { bundleXsScript } from "../../../support/xs-script.ts";

const ROOT = path.resolve(import.meta.dirname, "../../../..");

/** Runs a scenario over the HTTP, SSE and Firebase modules inside the real XS engine; it prints one JSON line. */
const SCENARIO = `
import { ResponseParser } from "${ROOT}/firmware/net/http/response-parser.ts";
import { SseParser } from "${ROOT}/firmware/net/http/sse.ts";
import { percentEncode } from "${ROOT}/firmware/net/http/url.ts";
import { HttpClient } from "${ROOT}/firmware/net/http/client.ts";
import { sortChildren } from "${ROOT}/firmware/net/firebase/ordering.ts";
import { decodeJwtPayload } from "${ROOT}/firmware/net/firebase/jwt.ts";
import { Database } from "${ROOT}/firmware/net/firebase/rtdb.ts";
import { query } from "${ROOT}/firmware/net/firebase/query.ts";
import { utf8Encode, utf8Decode } from "${ROOT}/firmware/core/utf8.ts";

const out = {};
const response = utf8Encode("HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n4;x=y\\r\\nZoë\\r\\n0\\r\\nT: 1\\r\\n\\r\\n");
const body = [];
const parser = new ResponseParser({ method: "GET", onHead() {}, onBody(b) { body.push(...b); }, onComplete() { out.complete = true; } });
for (const byte of response) parser.push(Uint8Array.of(byte));
out.body = utf8Decode(Uint8Array.from(body));

const events = [];
const sse = new SseParser({ onEvent: (e) => events.push([e.type, Array.from(e.data, (c) => c.codePointAt(0))]) });
for (const byte of utf8Encode("event: put\\r\\ndata: 🦖\\r\\n\\r\\n")) sse.push(Uint8Array.of(byte));
out.events = events;

out.encoded = percentEncode("é 🦖/");
out.sorted = sortChildren({ b: 1, "10": 1, "2": 1, "-1": 1, "01": 1, a: 1 }).map((e) => e[0]);
out.jwt = decodeJwtPayload("eyJhbGciOiJub25lIn0.eyJ1c2VyX2lkIjoidTEiLCJleHAiOjE3MDAwMDAwMDB9.").user_id;

// A whole client round trip over a Transport written here, with a Clock that never fires.
const transport = {
  async connect(target, handlers) {
    return {
      write(bytes) {
        const text = utf8Decode(bytes);
        const json = '{"b":{"h":2},"a":{"h":2},"c":{"h":1}}';
        Promise.resolve().then(() => {
          out.requestLine = text.split("\\r\\n")[0];
          handlers.onData(utf8Encode("HTTP/1.1 200 OK\\r\\nContent-Length: " + json.length + "\\r\\n\\r\\n" + json));
        });
      },
      close() {},
    };
  },
};
const clock = { now: () => 0, epochMs: () => undefined, delay() {}, setTimeout: () => ({}), setInterval: () => ({}), clear() {} };
const db = new Database({ databaseUrl: "http://127.0.0.1:9000?ns=demo", http: new HttpClient({ transport, clock }), clock });
db.query("dinos", query().orderByChild("h")).then(
  (entries) => { out.query = entries.map((e) => e[0]); print(JSON.stringify(out)); },
  (error) => print(JSON.stringify({ error: String(error) })),
);
`;


describe("the HTTP and Firebase modules inside the real XS engine", () => {
  const workers: XsnapWorker[] = [];
  afterAll(async () => {
    for (const worker of workers) await worker.close();
  });

  it("parse, sort, decode and make a request exactly as on Node", async () => {
    const worker = new XsnapWorker();
    workers.push(worker);
    await worker.evaluate(await bundleXsScript(SCENARIO));
    const line = worker.output.find((l) => l.startsWith("{"));
    expect(line, worker.output.join("\n")).toBeDefined();
    expect(JSON.parse(line!)).toEqual({
      complete: true,
      body: "Zoë",
      events: [["put", [0x1f996]]],
      encoded: "%C3%A9%20%F0%9F%A6%96%2F",
      sorted: ["-1", "01", "2", "10", "a", "b"],
      jwt: "u1",
      requestLine: "GET /dinos.json?ns=demo&orderBy=%22h%22 HTTP/1.1",
      query: ["c", "a", "b"],
    });
  }, 60_000);
});
