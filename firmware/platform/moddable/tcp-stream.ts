import TCP from "embedded:io/socket/tcp";
import { TransportError } from "../../core/errors.ts";

/** What a stream tells its owner. Called with no `this`; an exception thrown by one closes the stream with it. */
export interface StreamEvents {
  onOpen(): void;
  onData(bytes: Uint8Array): void;
  /** The stream ended: refused, broken, closed by the peer, or a handler threw. Called once. */
  onError(error: Error): void;
}

/** A byte stream the transport writes to: writes are queued, never refused. */
export interface ByteStream {
  write(bytes: Uint8Array): void;
  close(): void;
}

interface TcpSocket {
  read(count: number): ArrayBuffer | undefined;
  write(bytes: ArrayBuffer): number | undefined;
  close(): void;
}

/**
 * A TCP connection over ECMA-419's `embedded:io/socket/tcp` (numeric address only). The socket throws "would block"
 * for a write larger than what it last said is writable (1536 bytes on lin, the send buffer on lwip), so bytes wait
 * in a queue and go out as room is reported.
 */
export class TcpStream implements ByteStream {
  readonly #socket: TcpSocket;
  readonly #events: StreamEvents;
  readonly #what: string;
  #queue: Uint8Array[] = [];
  #writable = 0;
  #open = false;
  #closed = false;

  constructor(options: { address: string; port: number }, events: StreamEvents, what: string) {
    this.#events = events;
    this.#what = what;
    const Socket = TCP as unknown as new (options: object) => TcpSocket;
    this.#socket = new Socket({
      address: options.address,
      port: options.port,
      nodelay: true,
      format: "buffer",
      onWritable: (count: number) => this.#guard(() => this.#onWritable(count)),
      onReadable: (count: number) => this.#guard(() => this.#onReadable(count)),
      onError: () =>
        this.#fail(
          this.#open
            ? new TransportError("CLOSED", `${what}: the connection was closed or broken`)
            : new TransportError("REFUSED", `${what}: the connection was refused or could not be made; check the address, the port and that the server runs`),
        ),
    });
  }

  write(bytes: Uint8Array): void {
    if (this.#closed) throw new TransportError("CLOSED", `${this.#what}: the connection is closed`);
    this.#queue.push(bytes.slice());
    if (this.#open) this.#drain();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#socket.close();
  }

  #onWritable(count: number): void {
    this.#writable = count;
    if (!this.#open) {
      this.#open = true;
      this.#events.onOpen();
    }
    this.#drain();
  }

  #onReadable(count: number): void {
    const bytes = this.#socket.read(count);
    if (bytes && !this.#closed) this.#events.onData(new Uint8Array(bytes));
  }

  #drain(): void {
    while (!this.#closed && this.#queue.length && this.#writable > 0) {
      const head = this.#queue[0]!;
      const count = Math.min(head.length, this.#writable);
      const left = this.#socket.write(head.slice(0, count).buffer);
      this.#writable = typeof left === "number" ? left : this.#writable - count;
      if (count === head.length) this.#queue.shift();
      else this.#queue[0] = head.subarray(count);
    }
  }

  #guard(work: () => void): void {
    if (this.#closed) return;
    try {
      work();
    } catch (error) {
      this.#fail(error instanceof Error ? error : new TransportError("IO", `${this.#what}: ${String(error)}`));
    }
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    this.close();
    this.#events.onError(error);
  }
}
