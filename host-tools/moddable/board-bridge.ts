import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { HostCalls } from "../runtime/host-calls.ts";

const HEADER = 4;
const MAX_FRAME = 16 * 1024 * 1024;

/**
 * The host's end of the wire to firmware on Moddable's Linux runtime (linux/board.c): a Unix socket that answers the
 * firmware's blocking IO requests from HostCalls and sends events (input edges) the other way. Frames: a 4-byte
 * big-endian length, then 'q' request / 'r' reply / 'e' event and JSON.
 */
export class BoardBridge {
  readonly path: string;
  readonly #server: net.Server;
  readonly #calls: () => HostCalls;
  readonly #dir: string;
  #socket: net.Socket | undefined;
  #pending: Buffer[] = [];

  private constructor(server: net.Server, dir: string, calls: () => HostCalls) {
    this.#server = server;
    this.#dir = dir;
    this.path = path.join(dir, "board.sock");
    this.#calls = calls;
  }

  /** Listens on a socket in a private temporary folder; `calls` answers each request. */
  static async open(calls: () => HostCalls): Promise<BoardBridge> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-board-"));
    const server = net.createServer();
    const bridge = new BoardBridge(server, dir, calls);
    server.on("connection", (socket) => bridge.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(bridge.path, () => resolve());
    });
    return bridge;
  }

  /** Sends `events[name](...args)` to the firmware (queued until it connects). */
  deliver(name: string, ...args: unknown[]): void {
    const frame = encode("e", JSON.stringify({ event: name, args }));
    if (this.#socket && !this.#socket.destroyed) this.#socket.write(frame);
    else this.#pending.push(frame);
  }

  async close(): Promise<void> {
    this.#socket?.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }

  #accept(socket: net.Socket): void {
    // One firmware at a time: a restarted one replaces the last.
    this.#socket?.destroy();
    this.#socket = socket;
    socket.on("error", () => undefined);
    for (const frame of this.#pending.splice(0)) socket.write(frame);
    let buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= HEADER) {
        const length = buffer.readUInt32BE(0);
        if (length === 0 || length > MAX_FRAME) {
          socket.destroy();
          return;
        }
        if (buffer.length < HEADER + length) return;
        const kind = String.fromCharCode(buffer[HEADER]!);
        const payload = buffer.subarray(HEADER + 1, HEADER + length);
        buffer = buffer.subarray(HEADER + length);
        if (kind === "q") socket.write(encode("r", Buffer.from(this.#calls().handle(payload)).toString("utf8")));
      }
    });
  }
}

function encode(kind: "r" | "e", json: string): Buffer {
  const body = Buffer.from(json, "utf8");
  const frame = Buffer.alloc(HEADER + 1 + body.length);
  frame.writeUInt32BE(1 + body.length, 0);
  frame.write(kind, HEADER, "latin1");
  body.copy(frame, HEADER + 1);
  return frame;
}
