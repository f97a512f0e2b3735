import type { Connection, ConnectionHandlers, ConnectTarget, Transport } from "../../../../firmware/ports/transport.ts";

/** The server side of one in-memory connection. */
export class Peer {
  readonly target: ConnectTarget;
  readonly #handlers: ConnectionHandlers;
  received = "";
  closed = false;
  onReceive: (peer: Peer) => void = () => {};

  constructor(target: ConnectTarget, handlers: ConnectionHandlers) {
    this.target = target;
    this.#handlers = handlers;
  }
  send(data: string | Uint8Array): void {
    if (this.closed) return;
    this.#handlers.onData(typeof data === "string" ? new Uint8Array(Buffer.from(data, "utf8")) : data.slice());
  }
  /** The server hangs up. */
  close(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.#handlers.onClose(error);
  }
  /** Complete requests received and not yet taken, each as its head and body text. */
  takeRequests(): Array<{ head: string; body: string }> {
    const out: Array<{ head: string; body: string }> = [];
    for (;;) {
      const end = this.received.indexOf("\r\n\r\n");
      if (end < 0) return out;
      const head = this.received.slice(0, end);
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (this.received.length < end + 4 + length) return out;
      out.push({ head, body: this.received.slice(end + 4, end + 4 + length) });
      this.received = this.received.slice(end + 4 + length);
    }
  }
}

/** A Transport whose far end is test code: `onConnect` gets each new connection's Peer. */
export class MemoryTransport implements Transport {
  readonly peers: Peer[] = [];
  onConnect: (peer: Peer) => void = () => {};
  refuse = false;

  async connect(target: ConnectTarget, handlers: ConnectionHandlers): Promise<Connection> {
    if (this.refuse) throw new Error("refused");
    const peer = new Peer(target, handlers);
    this.peers.push(peer);
    const connection: Connection = {
      write: (bytes) => {
        if (peer.closed) throw new Error("closed");
        peer.received += Buffer.from(bytes).toString("latin1");
        queueMicrotask(() => peer.onReceive(peer));
      },
      close: () => {
        if (peer.closed) return;
        peer.closed = true;
        queueMicrotask(() => handlers.onClose());
      },
    };
    queueMicrotask(() => this.onConnect(peer));
    return connection;
  }
}

/** Makes a Transport whose every request is answered by `respond` (given the request), on kept-alive connections. */
export function answering(respond: (request: { head: string; body: string }, peer: Peer) => string | undefined): MemoryTransport {
  const transport = new MemoryTransport();
  transport.onConnect = (peer) => {
    peer.onReceive = () => {
      for (const request of peer.takeRequests()) {
        const answer = respond(request, peer);
        if (answer !== undefined) peer.send(answer);
      }
    };
  };
  return transport;
}
