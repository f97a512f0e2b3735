import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TimeoutError, TransportError } from "../../../../firmware/core/errors.ts";
import { HttpClient, httpErrorFor, jsonBody } from "../../../../firmware/net/http/client.ts";
import { HttpError, HttpProtocolError } from "../../../../firmware/net/http/errors.ts";
import { VirtualClock } from "../../../../host-tools/platform/virtual-clock.ts";
import { answering, MemoryTransport } from "./memory-transport.ts";

const ok = (body: string, extra = "") => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

describe("HttpClient", () => {
  it("reuses one kept-alive connection for sequential requests and sends Host and Content-Length", async () => {
    const seen: string[] = [];
    const transport = answering((request) => {
      seen.push(`${request.head}|${request.body}`);
      return ok("fine");
    });
    const client = new HttpClient({ transport, clock: new VirtualClock() });
    for (let i = 0; i < 3; i++) {
      const response = await client.request({ method: "PUT", url: "http://db.local:9000/a.json?ns=x", body: `{"i":${i}}` });
      expect(new TextDecoder().decode(response.body)).toBe("fine");
    }
    expect(client.connectionsOpened).toBe(1);
    expect(seen[0]).toMatch(/^PUT \/a\.json\?ns=x HTTP\/1\.1\r\nHost: db\.local:9000\r\n/);
    expect(seen[0]).toMatch(/Content-Length: 7/);
    expect(seen[2]).toMatch(/\|\{"i":2\}$/);
  });

  it("serialises concurrent requests to one origin on one connection", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const transport = new MemoryTransport();
    transport.onConnect = (peer) => {
      peer.onReceive = () => {
        for (const _ of peer.takeRequests()) {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          setTimeout(() => {
            inFlight--;
            peer.send(ok("x"));
          }, 1);
        }
      };
    };
    const client = new HttpClient({ transport, clock: new VirtualClock() });
    await Promise.all([1, 2, 3, 4].map(() => client.request({ url: "http://h/" })));
    expect(maxInFlight).toBe(1);
    expect(client.connectionsOpened).toBe(1);
  });

  it("opens a new connection after Connection: close", async () => {
    const transport = answering(() => ok("bye", "Connection: close\r\n"));
    const client = new HttpClient({ transport, clock: new VirtualClock() });
    await client.request({ url: "http://h/" });
    await client.request({ url: "http://h/" });
    expect(client.connectionsOpened).toBe(2);
  });

  it("retries a GET once when a kept-alive connection turns out stale, but never a POST", async () => {
    let answered = 0;
    const transport = new MemoryTransport();
    transport.onConnect = (peer) => {
      peer.onReceive = () => {
        for (const _ of peer.takeRequests()) {
          if (answered++ === 1) peer.close(); // the second request meets a connection the server just dropped
          else peer.send(ok("ok"));
        }
      };
    };
    const client = new HttpClient({ transport, clock: new VirtualClock() });
    await client.request({ url: "http://h/" });
    const retried = await client.request({ url: "http://h/" });
    expect(retried.status).toBe(200);
    expect(client.connectionsOpened).toBe(2);

    answered = 1;
    const error = await client.request({ method: "POST", url: "http://h/items?auth=secret", body: "{}" }).catch((e) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toMatch(/may or may not have been applied/);
    expect(error.message).not.toContain("secret");
  });

  it("follows 307 and 308 keeping method and body, across origins, and stops a loop", async () => {
    const transport = answering((request, peer) => {
      if (peer.target.port === 80) return "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://other:8080/x\r\nContent-Length: 0\r\n\r\n";
      return ok(request.head.split(" ")[0] + " " + request.body);
    });
    const client = new HttpClient({ transport, clock: new VirtualClock() });
    const response = await client.request({ method: "PUT", url: "http://first/a", body: "data" });
    expect(new TextDecoder().decode(response.body)).toBe("PUT data");
    expect(response.url).toBe("http://other:8080/x");

    const loop = answering(() => "HTTP/1.1 308 Permanent Redirect\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n");
    const looping = new HttpClient({ transport: loop, clock: new VirtualClock(), maxRedirects: 3 });
    await expect(looping.request({ url: "http://h/" })).rejects.toMatchObject({ code: "TOO_MANY_REDIRECTS" });
  });

  it("times out in virtual time when the server never finishes", async () => {
    const clock = new VirtualClock();
    const transport = answering(() => "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
    const client = new HttpClient({ transport, clock });
    const pending = client.request({ url: "http://h/slow?auth=tok", timeoutMs: 5000 }).catch((e) => e);
    await clock.advance(4999);
    let settled = false;
    void pending.then(() => (settled = true));
    await clock.advance(0);
    expect(settled).toBe(false);
    await clock.advance(1);
    const error = await pending;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toMatch(/within 5000 ms/);
    expect(error.message).not.toContain("tok");
    expect(transport.peers[0]!.closed).toBe(true);
  });

  it("turns a 503 HTML page into an HttpError that says it was an HTML page", async () => {
    const html = "<html><head><title>503 Service Unavailable</title></head><body>down</body></html>";
    const transport = answering(() => `HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nContent-Length: ${html.length}\r\n\r\n${html}`);
    const client = new HttpClient({ transport, clock: new VirtualClock() });
    const response = await client.request({ url: "http://h/data.json" });
    const error = httpErrorFor("GET", response);
    expect(error).toBeInstanceOf(HttpError);
    expect(error.status).toBe(503);
    expect(error.message).toMatch(/503 Service Unavailable: an HTML page titled "503 Service Unavailable"/);
    const jsonError = (() => {
      try {
        jsonBody(response, "reading /data");
      } catch (e) {
        return e as Error;
      }
    })();
    expect(jsonError).toBeInstanceOf(HttpProtocolError);
    expect(jsonError!.message).toMatch(/expected JSON .* but got "<html><head><title>503/);
  });

  it("takes the server's JSON error message", async () => {
    const transport = answering(() => {
      const body = '{"error" : "Permission denied"}';
      return `HTTP/1.1 401 Unauthorized\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    });
    const client = new HttpClient({ transport, clock: new VirtualClock() });
    const error = httpErrorFor("GET", await client.request({ url: "http://h/x.json" }));
    expect(error.serverMessage).toBe("Permission denied");
  });

  it("streams a 2xx body and throws HttpError for a non-2xx stream", async () => {
    const transport = answering((request, peer) => {
      if (request.head.startsWith("GET /denied")) return ok('{"error":"Permission denied"}'.padEnd(29), "").replace("200 OK", "401 Unauthorized");
      peer.send("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n");
      peer.send("event: put\ndata: 1\n\n");
      return undefined;
    });
    const client = new HttpClient({ transport, clock: new VirtualClock() });
    const data: string[] = [];
    let ended: Error | undefined | null = null;
    const stream = await client.stream({ url: "http://h/s" }, { onData: (b) => data.push(Buffer.from(b).toString()), onEnd: (e) => (ended = e) });
    await new Promise((r) => setTimeout(r, 5));
    expect(stream.status).toBe(200);
    expect(data.join("")).toBe("event: put\ndata: 1\n\n");
    transport.peers[0]!.close();
    await new Promise((r) => setTimeout(r, 1));
    expect(ended).toBeUndefined(); // close-delimited body: a clean end
    await expect(client.stream({ url: "http://h/denied" }, { onData: () => {}, onEnd: () => {} })).rejects.toMatchObject({ status: 401 });
  });

  it("bounds a buffered body with a typed error and drops the connection", async () => {
    const transport = answering(() => ok("x".repeat(2000)));
    const client = new HttpClient({ transport, clock: new VirtualClock(), maxBodyBytes: 1000 });
    await expect(client.request({ url: "http://h/big" })).rejects.toMatchObject({ code: "BODY_TOO_LARGE" });
    expect(transport.peers[0]!.closed).toBe(true);
  });

  it("settles every request with a typed error or a response, whatever bytes come back (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.constantFrom("HTTP/1.1 200 OK\r\n", "Content-Length: 3\r\n", "\r\n", "Transfer-Encoding: chunked\r\n", "5\r\nab")), { maxLength: 6 }),
        fc.boolean(),
        async (pieces, hangUp) => {
          const clock = new VirtualClock();
          const transport = answering((_, peer) => {
            for (const piece of pieces) peer.send(piece);
            if (hangUp) peer.close();
            return undefined;
          });
          const client = new HttpClient({ transport, clock, maxHeaderBytes: 200, maxBodyBytes: 200 });
          let outcome: unknown = "pending";
          client.request({ url: "http://h/", timeoutMs: 1000 }).then((r) => (outcome = r), (e) => (outcome = e));
          await clock.advance(1001);
          await new Promise((r) => setTimeout(r, 0));
          expect(outcome).not.toBe("pending");
          if (outcome instanceof Error) {
            expect([HttpProtocolError, TransportError, TimeoutError].some((type) => outcome instanceof type)).toBe(true);
          } else {
            expect((outcome as { status: number }).status).toBeGreaterThanOrEqual(100);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
