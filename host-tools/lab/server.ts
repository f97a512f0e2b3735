import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import type { AddressInfo } from "node:net";
import type { VirtualDevice } from "../runtime/virtual-device.ts";
import type { FirmwareStatus } from "./firmware-runner.ts";

/** Something the lab shows besides the board: the database tree, the MQTT log, readings. */
export interface LabFeed {
  name: string;
  /** The current state, sent when a page connects. */
  snapshot(): unknown;
  /** Calls `send` with each update; returns a function that stops. */
  subscribe(send: (data: unknown) => void): () => void;
}

export interface LabControls {
  /** Presses, releases or taps a key on the keypad part. */
  key(key: string, action: "press" | "release" | "tap"): void;
  /** Sets what the IR sensors see. */
  ir(setting: { distanceCm?: number; obstacle?: boolean }): void;
  reset(): Promise<void>;
  /** Has the firmware read the other IR sensor (FC-51 obstacle or Sharp distance) and resets the board. */
  irKind?(kind: "obstacle" | "distance"): Promise<void>;
  /** Empties the lab's database (a fresh start for the assignment). */
  clearDatabase?(): Promise<void>;
  /** Publishes through the local broker, as the server side would (commands to the device). */
  publish?(topic: string, payload: string): Promise<void>;
}

/** Where the firmware is in the edit-run loop (building, resetting, running, or not running and why). */
export interface LabFirmware {
  readonly status: FirmwareStatus;
  listen(listener: (status: FirmwareStatus) => void): () => void;
}

/** The header that carries the per-run token on every state-changing request. */
export const LAB_TOKEN_HEADER = "x-esplab-token";
const TOKEN_PLACEHOLDER = '<meta name="esplab-token" content="">';

const PAGE_DIR = path.join(import.meta.dirname, "page");
const STATIC: Record<string, { file: string; type: string }> = {
  "/": { file: path.join(PAGE_DIR, "index.html"), type: "text/html; charset=utf-8" },
  "/lab.js": { file: path.join(PAGE_DIR, "lab.js"), type: "text/javascript; charset=utf-8" },
  "/lab.css": { file: path.join(PAGE_DIR, "lab.css"), type: "text/css; charset=utf-8" },
  "/wokwi-elements.js": {
    file: createRequire(import.meta.url).resolve("@wokwi/elements/dist/wokwi-elements.bundle.min.js"),
    type: "text/javascript; charset=utf-8",
  },
};

/**
 * The lab's web server: the page, a Server-Sent-Events stream of everything that changes (parts, serial console,
 * board diagnostics, feeds), and a small JSON API for the page's controls. Binds to 127.0.0.1 only, and answers only
 * its own page: every request must name it in Host (127.0.0.1 or localhost, with its port — a DNS-rebound name is
 * refused), a browser request from another origin is refused (Origin, and Sec-Fetch-Site where the browser sends
 * it), and a POST must carry JSON, which a foreign page cannot send without a preflight this server never grants.
 * Every POST also needs this run's random token in the X-Esplab-Token header: the server writes it into the page it
 * serves, which only a page of the lab's own origin can read, and a new run makes a new one.
 */
export class LabServer {
  readonly #device: () => VirtualDevice;
  readonly #controls: LabControls;
  readonly #feeds: LabFeed[];
  readonly #firmware: LabFirmware | undefined;
  readonly #server: http.Server;
  readonly #clients = new Set<http.ServerResponse>();
  #partsJson = "";
  #poll: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void)[] = [];
  #deviceUnsubscribe: (() => void)[] = [];
  /** host:port values this server answers to, set by listen(). */
  #hosts = new Set<string>();
  readonly #token = crypto.randomBytes(32).toString("base64url");

  constructor(options: { device: () => VirtualDevice; controls: LabControls; feeds?: LabFeed[]; firmware?: LabFirmware }) {
    this.#device = options.device;
    this.#controls = options.controls;
    this.#feeds = options.feeds ?? [];
    this.#firmware = options.firmware;
    this.#server = http.createServer((request, response) => {
      this.#route(request, response).catch((error: Error) => {
        if (!response.headersSent) this.#json(response, 500, { error: error.message });
        else response.end();
      });
    });
    // A page polls this server over keep-alive connections. Closing one idle for 5 s (Node's default) races with the
    // page's next request whenever the process was busy for that long (the Moddable engine bundles the firmware
    // on this thread), and the request dies with ECONNRESET; the page's connections close when it goes.
    this.#server.keepAliveTimeout = 0;
  }

  async listen(port = 0, host = "127.0.0.1"): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, resolve);
    });
    this.#poll = setInterval(() => this.#sendPartsIfChanged(), 50);
    for (const feed of this.#feeds) this.#unsubscribe.push(feed.subscribe((data) => this.#broadcast(feed.name, data)));
    if (this.#firmware) this.#unsubscribe.push(this.#firmware.listen((status) => this.#broadcast("firmware", status)));
    this.attachDevice();
    const address = this.#server.address() as AddressInfo;
    this.#hosts = new Set([`${host}:${address.port}`, `127.0.0.1:${address.port}`, `localhost:${address.port}`].map((h) => h.toLowerCase()));
    return `http://${host}:${address.port}/`;
  }

  /** This run's token, for a client in the same process (the page gets it inside index.html). */
  get token(): string {
    return this.#token;
  }

  /** Follows the current device's serial console and diagnostics (call again after the device is replaced). */
  attachDevice(): void {
    for (const stop of this.#deviceUnsubscribe.splice(0)) stop();
    const device = this.#device();
    this.#deviceUnsubscribe.push(device.serial.listen((line) => this.#broadcast("serial", line)));
    this.#deviceUnsubscribe.push(device.board.diagnostics.listen((entry) => this.#broadcast("diagnostic", entry)));
  }

  async close(): Promise<void> {
    clearInterval(this.#poll);
    for (const stop of [...this.#unsubscribe, ...this.#deviceUnsubscribe]) stop();
    for (const client of this.#clients) client.end();
    this.#clients.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #parts(): Record<string, unknown> {
    const parts: Record<string, unknown> = {};
    for (const part of this.#device().board.parts) parts[part.id] = { type: part.type, ...(part.snapshot() as object) };
    return parts;
  }

  #sendPartsIfChanged(): void {
    if (this.#clients.size === 0) return;
    const json = JSON.stringify(this.#parts());
    if (json === this.#partsJson) return;
    this.#partsJson = json;
    this.#broadcastRaw("parts", json);
  }

  #broadcast(event: string, data: unknown): void {
    this.#broadcastRaw(event, JSON.stringify(data));
  }

  #broadcastRaw(event: string, json: string): void {
    for (const client of this.#clients) client.write(`event: ${event}\ndata: ${json}\n\n`);
  }

  /** Why this request is not from the lab's own page (status and reason), or undefined when it is. */
  #refusal(request: http.IncomingMessage, api: boolean): [number, string] | undefined {
    const host = (request.headers.host ?? "").toLowerCase();
    const own = [...this.#hosts][0] ?? "127.0.0.1";
    if (!this.#hosts.has(host)) return [421, `this lab answers only at http://${own}/ (or localhost with the same port); the request was for "${host.slice(0, 100)}"`];
    const origin = request.headers.origin;
    if (origin !== undefined) {
      const from = /^http:\/\/([^/]+)$/i.exec(origin)?.[1]?.toLowerCase();
      if (from === undefined || !this.#hosts.has(from)) return [403, `the lab takes requests only from its own page at http://${own}/, not from ${origin.slice(0, 100)}`];
    }
    const site = request.headers["sec-fetch-site"];
    if (api && site !== undefined && site !== "same-origin" && site !== "none") return [403, `the lab takes requests only from its own page at http://${own}/ (this one came from another site)`];
    if (request.method === "POST") {
      if (!this.#hasToken(request.headers[LAB_TOKEN_HEADER])) {
        return [403, `the lab takes controls only from the page it served in this run, which sends its token in X-Esplab-Token; reload http://${own}/ (a page from before the lab restarted has an old token)`];
      }
      const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
      if (type !== "application/json") return [415, `send the body as JSON with Content-Type: application/json (got ${type || "none"})`];
    }
    return undefined;
  }

  #hasToken(sent: string | string[] | undefined): boolean {
    if (typeof sent !== "string") return false;
    const given = Buffer.from(sent);
    const expected = Buffer.from(this.#token);
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  }

  async #route(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://lab");
    const refused = this.#refusal(request, url.pathname.startsWith("/api/"));
    if (refused) {
      request.resume();
      return this.#json(response, refused[0], { error: refused[1] });
    }
    const asset = STATIC[url.pathname];
    if (request.method === "GET" && url.pathname === "/") {
      const html = (await fs.promises.readFile(asset!.file, "utf8")).replace(TOKEN_PLACEHOLDER, `<meta name="esplab-token" content="${this.#token}">`);
      // Not framed by another site: the page carries the token and its controls.
      response.writeHead(200, {
        "content-type": asset!.type,
        "cache-control": "no-store",
        "x-frame-options": "DENY",
        "content-security-policy": "frame-ancestors 'none'",
      });
      response.end(html);
      return;
    }
    if (request.method === "GET" && asset) {
      response.writeHead(200, { "content-type": asset.type, "cache-control": "no-store" });
      fs.createReadStream(asset.file).pipe(response);
      return;
    }
    if (request.method === "GET" && url.pathname === "/api/state") {
      const device = this.#device();
      const feeds: Record<string, unknown> = {};
      for (const feed of this.#feeds) feeds[feed.name] = feed.snapshot();
      this.#json(response, 200, {
        parts: this.#parts(),
        serial: device.serial.lines.slice(-200),
        diagnostics: device.board.diagnostics.entries.slice(-50),
        engine: device.engine,
        app: device.config.app,
        irKind: device.config.ir_kind ?? "obstacle",
        firmware: this.#firmware?.status ?? { state: "running" },
        feeds,
      });
      return;
    }
    if (request.method === "GET" && url.pathname === "/api/events") {
      response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
      response.write(": esplab lab\n\n");
      this.#clients.add(response);
      this.#partsJson = "";
      request.on("close", () => this.#clients.delete(response));
      return;
    }
    if (request.method === "POST" && url.pathname.startsWith("/api/")) {
      const body = await readJson(request);
      if (body === undefined) return this.#json(response, 400, { error: "the request body must be JSON" });
      switch (url.pathname) {
        case "/api/keypad": {
          const { key, action = "tap" } = body as { key?: unknown; action?: unknown };
          if (typeof key !== "string" || !["press", "release", "tap"].includes(String(action))) {
            return this.#json(response, 400, { error: 'send {"key": "5", "action": "press" | "release" | "tap"}' });
          }
          try {
            this.#controls.key(key, action as "press");
          } catch (error) {
            return this.#json(response, 400, { error: (error as Error).message });
          }
          return this.#json(response, 200, { ok: true });
        }
        case "/api/ir": {
          const { distanceCm, obstacle } = body as { distanceCm?: unknown; obstacle?: unknown };
          if ((distanceCm !== undefined && typeof distanceCm !== "number") || (obstacle !== undefined && typeof obstacle !== "boolean")) {
            return this.#json(response, 400, { error: 'send {"distanceCm": 25} and/or {"obstacle": true}' });
          }
          this.#controls.ir({ distanceCm, obstacle });
          return this.#json(response, 200, { ok: true });
        }
        case "/api/reset":
          await this.#controls.reset();
          return this.#json(response, 200, { ok: true });
        case "/api/ir-kind": {
          const { kind } = body as { kind?: unknown };
          if (!this.#controls.irKind) return this.#json(response, 404, { error: "this lab cannot change the IR sensor" });
          if (kind !== "obstacle" && kind !== "distance") return this.#json(response, 400, { error: 'send {"kind": "obstacle"} (the FC-51) or {"kind": "distance"} (the Sharp)' });
          await this.#controls.irKind(kind);
          return this.#json(response, 200, { ok: true });
        }
        case "/api/database/clear":
          if (!this.#controls.clearDatabase) return this.#json(response, 404, { error: "this lab has no database" });
          await this.#controls.clearDatabase();
          return this.#json(response, 200, { ok: true });
        case "/api/mqtt": {
          const { topic, payload } = body as { topic?: unknown; payload?: unknown };
          if (!this.#controls.publish) return this.#json(response, 404, { error: "this lab has no MQTT broker" });
          if (typeof topic !== "string" || topic === "" || /[+#\u0000]/.test(topic) || typeof payload !== "string" || payload.length > 4096) {
            return this.#json(response, 400, { error: 'send {"topic": "cmd/Device001/servo", "payload": "90"} (a topic without + or #, a payload up to 4096 characters)' });
          }
          await this.#controls.publish(topic, payload);
          return this.#json(response, 200, { ok: true });
        }
      }
    }
    this.#json(response, 404, { error: `no ${request.method} ${url.pathname} here` });
  }

  #json(response: http.ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  }
}

async function readJson(request: http.IncomingMessage): Promise<unknown> {
  let text = "";
  for await (const chunk of request) {
    text += chunk;
    if (text.length > 65536) return undefined;
  }
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return undefined;
  }
}
