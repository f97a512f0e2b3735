import { createHash } from "node:crypto";
import type { JsonValue } from "../../../../firmware/net/firebase/ordering.ts";
import { getAt, normalize, setAt } from "../../../../firmware/net/firebase/tree.ts";
import { MemoryTransport, type Peer } from "../http/memory-transport.ts";

interface Listener {
  peer: Peer;
  segments: string[];
}

/**
 * A tiny Realtime Database REST server on the in-memory Transport, so stream timing runs in virtual time. It keeps a
 * tree, answers GET/PUT/POST/PATCH/DELETE with ETags, and streams put events to listeners. Not a Firebase model:
 * just enough to drive the client's logic; the real checks run against the emulator.
 */
export class FakeRtdb {
  readonly transport = new MemoryTransport();
  readonly requests: string[] = [];
  readonly listeners: Listener[] = [];
  data: JsonValue = null;
  validTokens = new Set<string>(["good"]);
  /** Next stream connections answer with these raw responses instead. */
  streamAnswers: string[] = [];
  #pushes = 0;

  constructor() {
    this.transport.onConnect = (peer) => {
      peer.onReceive = () => {
        for (const request of peer.takeRequests()) this.#handle(peer, request.head, request.body);
      };
    };
  }

  etag(value: JsonValue): string {
    return createHash("md5").update(JSON.stringify(value)).digest("base64");
  }

  /** Writes as another client would, notifying listeners. */
  write(path: string, value: JsonValue): void {
    const segments = path.split("/").filter(Boolean);
    this.data = setAt(this.data, segments, value);
    this.#notify(segments);
  }

  send(peer: Peer, status: string, body: string, headers: Record<string, string> = {}): void {
    let head = `HTTP/1.1 ${status}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    peer.send(`${head}\r\n${body}`);
  }

  #handle(peer: Peer, head: string, body: string): void {
    const [method, target] = head.split(" ") as [string, string];
    this.requests.push(`${method} ${target}`);
    const url = new URL(target, "http://x");
    const segments = url.pathname.replace(/\.json$/, "").split("/").filter(Boolean).map(decodeURIComponent);
    const auth = url.searchParams.get("auth");
    if (auth !== null && !this.validTokens.has(auth)) {
      this.send(peer, "401 Unauthorized", JSON.stringify({ error: "Auth token is expired" }));
      return;
    }
    if (/accept: text\/event-stream/i.test(head)) {
      const scripted = this.streamAnswers.shift();
      if (scripted) {
        peer.send(scripted);
        return;
      }
      peer.send("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n");
      this.listeners.push({ peer, segments });
      this.event(peer, "put", { path: "/", data: getAt(this.data, segments) });
      return;
    }
    const current = getAt(this.data, segments);
    const ifMatch = /if-match: *(\S+)/i.exec(head)?.[1];
    if (ifMatch && ifMatch !== this.etag(current)) {
      this.send(peer, "412 Precondition Failed", JSON.stringify(current), { ETag: this.etag(current) });
      return;
    }
    const silent = url.searchParams.get("print") === "silent";
    const done = (value: JsonValue) => {
      if (silent) peer.send("HTTP/1.1 204 No Content\r\n\r\n");
      else this.send(peer, "200 OK", JSON.stringify(value), /x-firebase-etag: true/i.test(head) || ifMatch ? { ETag: this.etag(getAt(this.data, segments)) } : {});
    };
    switch (method) {
      case "GET":
        if (url.searchParams.get("shallow") === "true" && current && typeof current === "object") {
          done(Object.fromEntries(Object.keys(current).map((k) => [k, true])));
        } else done(current);
        return;
      case "PUT":
        this.write(segments.join("/"), resolveServerValues(JSON.parse(body), current));
        done(JSON.parse(body));
        return;
      case "POST": {
        const key = `-N${String(this.#pushes++).padStart(6, "0")}`;
        this.write([...segments, key].join("/"), JSON.parse(body));
        done({ name: key });
        return;
      }
      case "PATCH": {
        const values = JSON.parse(body) as Record<string, JsonValue>;
        for (const [key, value] of Object.entries(values)) this.write([...segments, key].join("/"), value);
        done(values);
        return;
      }
      case "DELETE":
        this.write(segments.join("/"), null);
        done(null);
        return;
    }
  }

  event(peer: Peer, type: string, data: unknown): void {
    peer.send(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Drops every stream connection, as a server restart would. */
  dropStreams(): void {
    for (const listener of this.listeners.splice(0)) listener.peer.close();
  }

  #notify(written: string[]): void {
    for (const listener of this.listeners) {
      if (listener.peer.closed) continue;
      const l = listener.segments;
      if (written.slice(0, l.length).join("/") === l.join("/") && written.length >= l.length) {
        this.event(listener.peer, "put", { path: `/${written.slice(l.length).join("/")}`, data: getAt(this.data, written) });
      } else if (l.slice(0, written.length).join("/") === written.join("/")) {
        this.event(listener.peer, "put", { path: "/", data: getAt(this.data, l) });
      }
    }
  }
}

function resolveServerValues(value: JsonValue, current: JsonValue): JsonValue {
  if (value && typeof value === "object" && !Array.isArray(value) && ".sv" in value) {
    const sv = value[".sv"] as JsonValue;
    if (sv === "timestamp") return 1_700_000_000_000;
    if (sv && typeof sv === "object" && "increment" in sv) return (typeof current === "number" ? current : 0) + (sv.increment as number);
  }
  return normalize(value);
}
