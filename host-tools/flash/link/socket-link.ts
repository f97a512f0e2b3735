import { Socket, connect } from "node:net";
import { type ByteLink, type ControlLines, LinkError } from "./link.ts";

/** Parses "socket://host:port" (esptool's spelling); returns undefined for anything else. */
export function parseSocketUrl(spec: string): { host: string; port: number } | undefined {
  const match = /^socket:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(spec);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1]!.replace(/^\[|\]$/g, ""), port };
}

/** A raw TCP connection used as a serial line: no modem lines, baud is only remembered. */
export class SocketLink implements ByteLink {
  readonly hasControlLines = false;
  #baud: number;
  #closed = false;
  readonly #socket: Socket;
  readonly #closeListeners = new Set<(error?: Error) => void>();

  private constructor(readonly name: string, socket: Socket, baud: number) {
    this.#socket = socket;
    this.#baud = baud;
    let failure: Error | undefined;
    socket.on("error", (error) => (failure = error));
    socket.on("close", () => {
      this.#closed = true;
      for (const listener of this.#closeListeners) listener(failure);
    });
  }

  static async open(spec: string, baud: number): Promise<SocketLink> {
    const address = parseSocketUrl(spec);
    if (!address) throw new LinkError("bad-port", `"${spec}" is not a socket URL; write it as socket://HOST:PORT, e.g. socket://127.0.0.1:5555`);
    const socket = connect({ host: address.host, port: address.port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", (error: NodeJS.ErrnoException) => {
        const hint = error.code === "ECONNREFUSED" ? " — nothing listens there; start one with `esplab chip-sim --tcp " + address.port + "`" : "";
        reject(new LinkError("port-unavailable", `cannot connect to ${spec}: ${error.message}${hint}`, { cause: error }));
      });
    });
    return new SocketLink(spec, socket, baud);
  }

  get baud(): number {
    return this.#baud;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new LinkError("link-closed", `${this.name} is closed`));
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (error) => (error ? reject(new LinkError("write-failed", `writing to ${this.name} failed: ${error.message}`, { cause: error })) : resolve()));
    });
  }

  onData(listener: (bytes: Uint8Array) => void): () => void {
    const wrapped = (chunk: Buffer) => listener(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#socket.on("data", wrapped);
    return () => this.#socket.off("data", wrapped);
  }

  onClose(listener: (error?: Error) => void): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  async setLines(_lines: ControlLines): Promise<boolean> {
    return false;
  }

  async setBaud(baud: number): Promise<void> {
    this.#baud = baud;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.once("close", () => resolve());
      this.#socket.end();
      this.#socket.destroySoon();
    });
  }
}
