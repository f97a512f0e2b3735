/** The HTTP client and SSE parser against Node's own HTTP server over real loopback sockets: a reference peer. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpClient } from "../../../../firmware/net/http/client.ts";
import { type SseEvent, SseParser } from "../../../../firmware/net/http/sse.ts";
import { NodeTransport } from "../../../../host-tools/platform/node-transport.ts";
import { SystemClock } from "../../../../host-tools/platform/system-clock.ts";

let server: http.Server;
let base: string;
let connections = 0;
const streams: http.ServerResponse[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      if (req.url === "/chunked") {
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.write("first ");
        setTimeout(() => res.end("second"), 5);
      } else if (req.url === "/moved") {
        res.writeHead(307, { Location: "/echo" }).end("moved");
      } else if (req.url === "/events") {
        res.writeHead(200, { "Content-Type": "text/event-stream" });
        res.write('event: put\ndata: {"path":"/","data":1}\n\n');
        streams.push(res);
      } else {
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ method: req.method, body }));
      }
    });
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("HttpClient against node:http", () => {
  it("reads chunked bodies, follows 307 with the body, reuses one connection", async () => {
    const client = new HttpClient({ transport: new NodeTransport(), clock: new SystemClock() });
    const before = connections;
    const chunked = await client.request({ url: `${base}/chunked` });
    expect(Buffer.from(chunked.body).toString()).toBe("first second");
    const moved = await client.request({ method: "PUT", url: `${base}/moved`, body: "é" });
    expect(JSON.parse(Buffer.from(moved.body).toString())).toEqual({ method: "PUT", body: "é" });
    const head = await client.request({ method: "HEAD", url: `${base}/x` });
    expect(head.body.length).toBe(0);
    expect(connections - before).toBe(1);
    client.close();
  });

  it("streams server-sent events as they are written", async () => {
    const client = new HttpClient({ transport: new NodeTransport(), clock: new SystemClock() });
    const events: SseEvent[] = [];
    const parser = new SseParser({ onEvent: (event) => events.push(event) });
    let ended = false;
    const stream = await client.stream({ url: `${base}/events`, headers: { Accept: "text/event-stream" } }, { onData: (b) => parser.push(b), onEnd: () => (ended = true) });
    const wait = async (n: number) => {
      for (let i = 0; i < 100 && events.length < n; i++) await new Promise((r) => setTimeout(r, 5));
    };
    await wait(1);
    streams.at(-1)!.write('event: patch\ndata: {"path":"/a",\ndata: "data":{"b":2}}\n\n');
    await wait(2);
    expect(events.map((e) => e.type)).toEqual(["put", "patch"]);
    expect(JSON.parse(events[1]!.data)).toEqual({ path: "/a", data: { b: 2 } });
    streams.at(-1)!.end();
    for (let i = 0; i < 100 && !ended; i++) await new Promise((r) => setTimeout(r, 5));
    expect(ended).toBe(true);
    stream.close();
    client.close();
  });
});
