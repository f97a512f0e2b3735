import net from "node:net";
import tls from "node:tls";
import { TransportError } from "../../firmware/core/errors.ts";
import type { Connection, ConnectionHandlers, ConnectTarget, Transport } from "../../firmware/ports/transport.ts";

/** The laptop's Transport: Node's `net` and `tls`. `onSocket` sees each socket as it is made (to meter its bytes). */
export class NodeTransport implements Transport {
  readonly #onSocket: ((socket: net.Socket, target: ConnectTarget) => void) | undefined;

  constructor(options: { onSocket?: (socket: net.Socket, target: ConnectTarget) => void } = {}) {
    this.#onSocket = options.onSocket;
  }

  connect(target: ConnectTarget, handlers: ConnectionHandlers): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const where = `${target.host}:${target.port}`;
      const socket = target.tls
        ? tls.connect({
            host: target.host,
            port: target.port,
            servername: target.tls.serverName ?? (net.isIP(target.host) ? undefined : target.host),
            ca: target.tls.ca,
            cert: target.tls.certificate,
            key: target.tls.key,
            ALPNProtocols: target.tls.alpn,
          })
        : net.connect({ host: target.host, port: target.port });
      socket.setNoDelay(true);
      this.#onSocket?.(socket, target);
      let connected = false;
      let closed = false;
      const timer = setTimeout(() => {
        socket.destroy(new TransportError("CONNECT_TIMEOUT", `no connection to ${where} after ${target.timeoutMs} ms`));
      }, target.timeoutMs ?? 10_000);
      socket.once(target.tls ? "secureConnect" : "connect", () => {
        connected = true;
        clearTimeout(timer);
        resolve({
          write(bytes: Uint8Array) {
            if (closed || socket.destroyed) throw new TransportError("CLOSED", `connection to ${where} is closed`);
            socket.write(bytes);
          },
          close() {
            socket.end();
            socket.destroySoon();
          },
        });
      });
      socket.on("data", (chunk: Buffer) => {
        handlers.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength).slice());
      });
      let lastError: Error | undefined;
      socket.on("error", (error: NodeJS.ErrnoException) => {
        lastError = describeSocketError(error, where);
      });
      socket.on("close", () => {
        clearTimeout(timer);
        closed = true;
        if (!connected) reject(lastError ?? new TransportError("CLOSED", `connection to ${where} closed before it opened`));
        else handlers.onClose(lastError);
      });
    });
  }
}

function describeSocketError(error: NodeJS.ErrnoException, where: string): TransportError {
  if (error instanceof TransportError) return error;
  switch (error.code) {
    case "ECONNREFUSED":
      return new TransportError("REFUSED", `${where} refused the connection: is the server running?`, { cause: error });
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new TransportError("DNS", `cannot resolve ${where}: check the host name and the network`, { cause: error });
    case "ECONNRESET":
      return new TransportError("RESET", `${where} reset the connection`, { cause: error });
    default:
      if (error.code?.startsWith("ERR_TLS") || /certificate|SSL|TLS/i.test(error.message)) {
        return new TransportError("TLS", `TLS with ${where} failed: ${error.message}`, { cause: error });
      }
      return new TransportError("IO", `connection to ${where} failed: ${error.message}`, { cause: error });
  }
}
