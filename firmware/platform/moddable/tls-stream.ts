import Session, { type SessionSocket } from "ssl/session";
import { TransportError } from "../../core/errors.ts";
import { type ByteStream, type StreamEvents, TcpStream } from "./tcp-stream.ts";

export interface TlsStreamOptions {
  address: string;
  port: number;
  /** For SNI and the certificate's name check. */
  serverName: string;
  /** Moddable session options: certificate (trusted root, DER), clientCertificates, clientKey (PKCS#8 DER)… */
  secure: Record<string, unknown>;
}

const ROOM = 0x4000;
const CLOSE_NOTIFY = 0;

/** What the alerts a device meets mean, and what to do about them. */
const ALERTS: Readonly<Record<number, string>> = Object.freeze({
  40: "handshake failure: no cipher suite or curve in common",
  42: "bad certificate: the server refused the client certificate",
  46: "certificate unknown: the server refused the client certificate",
  48: "unknown CA: the server does not trust the client certificate's issuer",
  70: "protocol version: the server does not speak TLS 1.2, the only version Moddable's TLS offers",
  71: "insufficient security: the server wants stronger ciphers",
});

/**
 * TLS 1.2 over a TcpStream with Moddable's `ssl/session`, as Moddable's example TLS socket does it, except that
 * every session call is caught: a certificate the session rejects (untrusted, wrong name, expired) or an alert from
 * the server ends the stream with a TransportError instead of an exception in a socket callback (a VM abort).
 */
export class TlsStream implements ByteStream {
  readonly #session: Session;
  readonly #events: StreamEvents;
  readonly #what: string;
  readonly #tcp: TcpStream;
  readonly #inbound: Uint8Array[] = [];
  readonly #io: SessionSocket;
  #ready = false;
  #closed = false;

  constructor(options: TlsStreamOptions, events: StreamEvents, what: string) {
    this.#events = events;
    this.#what = what;
    this.#session = new Session({ serverName: options.serverName, ...options.secure, protocolVersion: 0x303 });
    this.#session.initiateHandshake();
    this.#io = {
      readable: 0,
      writable: ROOM,
      read: (target) => this.#take(target),
      write: (packet) => {
        this.#tcp.write(ArrayBuffer.isView(packet) ? new Uint8Array(packet.buffer, packet.byteOffset, packet.byteLength) : new Uint8Array(packet));
        return ROOM;
      },
    };
    this.#tcp = new TcpStream(
      options,
      {
        onOpen: () => this.#step(),
        onData: (bytes) => {
          this.#inbound.push(bytes);
          this.#step();
        },
        onError: (error) => this.#fail(this.#ready || !(error instanceof TransportError) || error.code !== "CLOSED" ? error : this.#handshakeClosed()),
      },
      what,
    );
  }

  write(bytes: Uint8Array): void {
    if (this.#closed || !this.#ready) throw new TransportError("CLOSED", `${this.#what}: the TLS session is ${this.#closed ? "closed" : "not open yet"}`);
    // A record holds at most 16 KB; smaller ones keep the device's buffers small.
    for (let at = 0; at < bytes.length; at += 4096) {
      this.#io.writable = ROOM;
      this.#session.write(this.#io, bytes.subarray(at, at + 4096));
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ready) {
      try {
        this.#session.close(this.#io);
      } catch {
        // the close_notify is a courtesy; the TCP close below is what counts
      }
    }
    this.#tcp.close();
  }

  #step(): void {
    if (this.#closed) return;
    const io = this.#io;
    const session = this.#session;
    try {
      io.readable = this.#buffered();
      io.writable = ROOM;
      while (!this.#ready) {
        const readable = io.readable;
        const state = session.handshakeProcess;
        if (session.handshake(io)) {
          if (session.alert) throw this.#alertError(session.alert.description);
          this.#ready = true;
          this.#events.onOpen();
        } else if (io.readable === readable && session.handshakeProcess === state) return;
      }
      while (!this.#closed && io.readable > 0) {
        const data = session.read(io);
        if (data === null) {
          const description = session.alert?.description ?? CLOSE_NOTIFY;
          throw description === CLOSE_NOTIFY ? new TransportError("CLOSED", `${this.#what}: the server closed the TLS session`) : this.#alertError(description);
        }
        if (data === undefined) return;
        if (data.length) this.#events.onData(data.slice());
      }
    } catch (error) {
      this.#fail(error instanceof TransportError ? error : this.#sessionError(error));
    }
  }

  #sessionError(error: unknown): TransportError {
    const message = error instanceof Error ? error.message : String(error);
    // ssl/alert throws "alert: <level>, <description>" for a fatal alert from the peer
    const alert = /^alert: \d+, (\d+)/.exec(message);
    if (alert) return this.#alertError(Number(alert[1]));
    if (/certificate/.test(message)) {
      return new TransportError(
        "TLS_CERTIFICATE",
        `${this.#what}: the server's certificate was not accepted (${message}): it must chain to a trusted root (the firmware's built-in roots, or the CA given in the settings) and name the host`,
        { cause: error },
      );
    }
    return new TransportError("TLS", `${this.#what}: the TLS handshake failed (${message})`, { cause: error });
  }

  #handshakeClosed(): TransportError {
    return new TransportError(
      "TLS_HANDSHAKE",
      `${this.#what}: the server closed the connection during the TLS handshake; a server that asks for a client certificate (AWS IoT) does this when it does not accept the one sent: check the certificate, its key and that it is registered and active`,
    );
  }

  #alertError(description: number): TransportError {
    const meaning = ALERTS[description] ?? "see RFC 5246, section 7.2";
    return new TransportError("TLS_ALERT", `${this.#what}: the server ended the TLS session with alert ${description} (${meaning})`);
  }

  #buffered(): number {
    let count = 0;
    for (const chunk of this.#inbound) count += chunk.length;
    return count;
  }

  #take(target: Uint8Array): void {
    let at = 0;
    while (at < target.length && this.#inbound.length) {
      const head = this.#inbound[0]!;
      const count = Math.min(head.length, target.length - at);
      target.set(head.subarray(0, count), at);
      at += count;
      if (count === head.length) this.#inbound.shift();
      else this.#inbound[0] = head.subarray(count);
    }
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#tcp.close();
    this.#events.onError(error);
  }
}
