/**
 * The lab answers only its own page: requests are sent as a browser on another site, or a DNS-rebound name, would
 * send them (raw HTTP, so every header is exactly what such a request carries). The browser-level version of the
 * same attacks is in foreign-origin.test.ts.
 */
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LabServer } from "../../../host-tools/lab/server.ts";
import { VirtualDevice } from "../../../host-tools/runtime/virtual-device.ts";

let device: VirtualDevice;
let server: LabServer;
let port: number;
const keys: string[] = [];

beforeAll(async () => {
  device = new VirtualDevice({ config: { app: "board-check" }, engine: "node" });
  server = new LabServer({
    device: () => device,
    controls: { key: (key) => keys.push(key), ir: () => undefined, reset: async () => undefined },
  });
  port = Number(new URL(await server.listen(0)).port);
});
afterAll(async () => {
  await server?.close();
});

function send(options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, method: options.method ?? "GET", path: options.path, headers: { host: `127.0.0.1:${port}`, ...options.headers } }, (response) => {
      let body = "";
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode!, body }));
      if (response.headers["content-type"] === "text/event-stream") {
        resolve({ status: response.statusCode!, body: "(stream)" });
        response.destroy();
      }
    });
    request.on("error", reject);
    request.end(options.body);
  });
}

describe("the lab server refuses what is not its own page", () => {
  it("answers its own page at 127.0.0.1 and localhost with its port", async () => {
    expect((await send({ path: "/api/state" })).status).toBe(200);
    expect((await send({ path: "/", headers: { host: `localhost:${port}` } })).status).toBe(200);
    const own = await send({ method: "POST", path: "/api/keypad", headers: { "content-type": "application/json", origin: `http://127.0.0.1:${port}`, "sec-fetch-site": "same-origin", "x-esplab-token": server.token }, body: '{"key":"5"}' });
    expect(own).toEqual({ status: 200, body: '{"ok":true}' });
    expect(keys).toEqual(["5"]);
  });

  it.each(["evil.example", "evil.example:PORT", "127.0.0.1:OTHER", "localhost.evil.example:PORT", "127.0.0.1"])("refuses Host %s (DNS rebinding) on every path", async (pattern) => {
    const host = pattern.replace("PORT", String(port)).replace("OTHER", String(port + 1));
    for (const path of ["/", "/api/state", "/api/events"]) {
      const answer = await send({ path, headers: { host } });
      expect(answer.status).toBe(421);
      expect(answer.body).toMatch(/this lab answers only at http:\/\/127\.0\.0\.1:\d+\//);
    }
  });

  it("refuses a request without Host", async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => socket.end("GET /api/state HTTP/1.0\r\n\r\n"));
      let text = "";
      socket.on("data", (chunk) => (text += chunk));
      socket.on("close", () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 421 /);
  });

  it("refuses a foreign Origin for reading state, the event stream and every control", async () => {
    const before = keys.length;
    for (const origin of ["http://evil.example", `http://127.0.0.1:${port + 1}`, `https://127.0.0.1:${port}`, "null"]) {
      expect((await send({ path: "/api/state", headers: { origin } })).status).toBe(403);
      expect((await send({ path: "/api/events", headers: { origin } })).status).toBe(403);
      const press = await send({ method: "POST", path: "/api/keypad", headers: { origin, "content-type": "application/json", "x-esplab-token": server.token }, body: '{"key":"1"}' });
      expect(press.status).toBe(403);
      expect(press.body).toMatch(/takes requests only from its own page/);
    }
    expect(keys.length).toBe(before);
  });

  it("refuses a cross-site request that carries no Origin (Sec-Fetch-Site), and a POST that is not JSON", async () => {
    const before = keys.length;
    expect((await send({ path: "/api/state", headers: { "sec-fetch-site": "cross-site" } })).status).toBe(403);
    expect((await send({ path: "/api/state", headers: { "sec-fetch-site": "same-site" } })).status).toBe(403);
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const answer = await send({ method: "POST", path: "/api/keypad", headers: { "content-type": type, "x-esplab-token": server.token }, body: '{"key":"1"}' });
      expect(answer.status).toBe(415);
      expect(answer.body).toMatch(/Content-Type: application\/json/);
    }
    expect((await send({ method: "POST", path: "/api/keypad", headers: { "x-esplab-token": server.token }, body: '{"key":"1"}' })).status).toBe(415);
    expect(keys.length).toBe(before);
  });

  it("writes a random per-run token into its page and takes no control without it", async () => {
    const page = await send({ path: "/" });
    const token = /<meta name="esplab-token" content="([^"]+)">/.exec(page.body)?.[1];
    expect(token).toBe(server.token);
    expect(token!.length).toBeGreaterThanOrEqual(43); // 32 random bytes
    const other = new LabServer({ device: () => device, controls: { key: () => undefined, ir: () => undefined, reset: async () => undefined } });
    expect(other.token).not.toBe(server.token); // another run, another token

    const before = keys.length;
    const json = { "content-type": "application/json", origin: `http://127.0.0.1:${port}` };
    for (const path of ["/api/keypad", "/api/ir", "/api/reset", "/api/mqtt", "/api/database/clear", "/api/ir-kind"]) {
      for (const sent of [undefined, "", other.token, server.token.slice(0, -1), `${server.token}x`]) {
        const answer = await send({ method: "POST", path, headers: sent === undefined ? json : { ...json, "x-esplab-token": sent }, body: '{"key":"1"}' });
        expect(answer.status).toBe(403);
        expect(JSON.parse(answer.body)).toEqual({ error: expect.stringMatching(/only from the page it served in this run, which sends its token in X-Esplab-Token; reload http:\/\/127\.0\.0\.1:\d+\//) });
      }
    }
    expect(keys.length).toBe(before);
    const press = await send({ method: "POST", path: "/api/keypad", headers: { ...json, "x-esplab-token": token! }, body: '{"key":"7"}' });
    expect(press.status).toBe(200);
    expect(keys.at(-1)).toBe("7");
  });

  it("does not let another site frame its page", async () => {
    const answer = await new Promise<http.IncomingMessage>((resolve) => http.get({ host: "127.0.0.1", port, path: "/", headers: { host: `127.0.0.1:${port}` } }, (r) => (r.resume(), resolve(r))));
    expect(answer.headers["x-frame-options"]).toBe("DENY");
    expect(answer.headers["content-security-policy"]).toBe("frame-ancestors 'none'");
  });
});
