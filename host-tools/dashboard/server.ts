/**
 * `esplab dashboard`: a page with live charts of every device's readings from a readings store. The page asks
 * /api/readings for a time range and devices, /api/readings.csv for the same as a download, and listens on
 * /api/events (server-sent events) for readings stored since; the server looks for new ones every `pollMs`.
 * It answers only for its own host name (127.0.0.1 or localhost at its port), so another web site cannot read the
 * readings through a rebound DNS name.
 */
import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import path from "node:path";
import { readingsToCsv } from "../cloud/readings/csv.ts";
import type { ReadingQuery, StoredReading } from "../cloud/readings/readings-store.ts";

/** Where the dashboard reads from: any readings store. */
export interface ReadingsSource {
  readings(query: ReadingQuery): StoredReading[] | Promise<StoredReading[]>;
  /** The devices with readings; without it they are found by reading every reading. */
  devices?(): string[] | Promise<string[]>;
  describe(): string;
}

const PAGE_DIR = path.join(import.meta.dirname, "page");
const ASSETS: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/dashboard.js": { file: "dashboard.js", type: "text/javascript; charset=utf-8" },
  "/dashboard.css": { file: "dashboard.css", type: "text/css; charset=utf-8" },
};

export interface DashboardServerOptions {
  source: ReadingsSource;
  /** How often to look for new readings for the live page. */
  pollMs?: number;
  log?: (line: string) => void;
}

export class DashboardServer {
  readonly #options: DashboardServerOptions;
  readonly #server: http.Server;
  readonly #streams = new Set<http.ServerResponse>();
  readonly #sockets = new Set<net.Socket>();
  #hosts = new Set<string>();
  #poller: ReturnType<typeof setInterval> | undefined;
  /** Newest arrival time already sent to the live pages, and the readings at exactly that time. */
  #watermark = Date.now();
  #atWatermark = new Set<string>();
  #polling = false;

  constructor(options: DashboardServerOptions) {
    this.#options = options;
    this.#server = http.createServer((request, response) => {
      this.#route(request, response).catch((error: Error) => {
        this.#options.log?.(`dashboard: ${error.message}`);
        if (!response.headersSent) send(response, 503, "text/plain; charset=utf-8", `the readings store did not answer: ${error.message}`);
        else response.end();
      });
    });
    this.#server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
  }

  async listen(port: number, host = "127.0.0.1"): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", (error: NodeJS.ErrnoException) =>
        reject(error.code === "EADDRINUSE" ? new Error(`port ${port} is in use: choose another with --port`) : error),
      );
      this.#server.listen(port, host, () => resolve());
    });
    const bound = (this.#server.address() as net.AddressInfo).port;
    this.#hosts = new Set([`${host}:${bound}`, `127.0.0.1:${bound}`, `localhost:${bound}`]);
    this.#poller = setInterval(() => void this.#poll(), this.#options.pollMs ?? 1000);
    return `http://${host}:${bound}/`;
  }

  async close(): Promise<void> {
    if (this.#poller) clearInterval(this.#poller);
    for (const stream of this.#streams) stream.end();
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #route(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const host = (request.headers.host ?? "").toLowerCase();
    if (!this.#hosts.has(host)) return send(response, 421, "text/plain; charset=utf-8", `this dashboard answers only at http://${[...this.#hosts][0]}/`);
    if (request.method !== "GET") return send(response, 405, "text/plain; charset=utf-8", "the dashboard only reads: use GET");
    const url = new URL(request.url ?? "/", "http://dashboard");
    const asset = ASSETS[url.pathname];
    if (asset) {
      response.writeHead(200, { "content-type": asset.type, "cache-control": "no-store", "content-security-policy": "default-src 'self'; style-src 'self'" });
      response.end(await fs.promises.readFile(path.join(PAGE_DIR, asset.file)));
      return;
    }
    if (url.pathname === "/api/readings" || url.pathname === "/api/readings.csv") {
      const query = parseQuery(url.searchParams);
      if (typeof query === "string") return send(response, 400, "text/plain; charset=utf-8", query);
      const readings = await this.#select(query);
      if (url.pathname.endsWith(".csv")) {
        response.writeHead(200, { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="readings.csv"` });
        response.end(readingsToCsv(readings));
        return;
      }
      const source = this.#options.source;
      const devices = source.devices ? await source.devices() : [...new Set((await source.readings({})).map((r) => r.device))].sort();
      return send(response, 200, "application/json", JSON.stringify({ store: source.describe(), devices, readings }));
    }
    if (url.pathname === "/api/events") {
      response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
      response.write(": live\n\n");
      this.#streams.add(response);
      request.on("close", () => this.#streams.delete(response));
      return;
    }
    if (url.pathname === "/favicon.ico") return void response.writeHead(204).end();
    send(response, 404, "text/plain; charset=utf-8", `no ${url.pathname} here; the dashboard is at /`);
  }

  async #select(query: ReadingQuery & { until?: number; devices?: string[] }): Promise<StoredReading[]> {
    const readings = await this.#options.source.readings({ since: query.since });
    return readings.filter((r) => (query.until === undefined || r.receivedAt <= query.until) && (!query.devices || query.devices.includes(r.device)));
  }

  /** Sends the readings stored since the last look to every live page. */
  async #poll(): Promise<void> {
    if (this.#polling || !this.#streams.size) return;
    this.#polling = true;
    try {
      const fresh = (await this.#options.source.readings({ since: this.#watermark })).filter((r) => !this.#atWatermark.has(key(r)));
      if (!fresh.length) return;
      const newest = Math.max(...fresh.map((r) => r.receivedAt));
      if (newest > this.#watermark) this.#atWatermark.clear();
      this.#watermark = newest;
      for (const reading of fresh) if (reading.receivedAt === newest) this.#atWatermark.add(key(reading));
      const event = `event: readings\ndata: ${JSON.stringify(fresh)}\n\n`;
      for (const stream of this.#streams) stream.write(event);
    } catch (error) {
      this.#options.log?.(`dashboard: cannot read the store: ${(error as Error).message}`);
    } finally {
      this.#polling = false;
    }
  }
}

function key(reading: StoredReading): string {
  return `${reading.device}\u0000${reading.seq ?? ""}\u0000${reading.receivedAt}\u0000${JSON.stringify(reading.fields)}`;
}

function send(response: http.ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  response.end(body);
}

/** ?since=&until= (ms since the epoch or ISO 8601) and ?device= (repeatable); a string names what is wrong. */
function parseQuery(params: URLSearchParams): (ReadingQuery & { until?: number; devices?: string[] }) | string {
  const time = (name: string): number | undefined | string => {
    const text = params.get(name);
    if (text === null || text === "") return undefined;
    const value = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    return Number.isFinite(value) ? value : `${name}=${text.slice(0, 40)} is not a time: give milliseconds since 1970 or ISO 8601 (2026-12-01T10:00:00Z)`;
  };
  const since = time("since");
  const until = time("until");
  if (typeof since === "string") return since;
  if (typeof until === "string") return until;
  const devices = params.getAll("device").filter((d) => d !== "");
  return { ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), ...(devices.length ? { devices } : {}) };
}
