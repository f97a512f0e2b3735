import TCP from "embedded:io/socket/tcp";
import TLSSocket from "embedded:io/socket/tcp/tls";
import { TransportError } from "../../core/errors.ts";
import type { Connection, ConnectionHandlers, ConnectTarget, Transport } from "../../ports/transport.ts";

/** Moddable's DNS resolver as the ESP32 host provides it (`device.network.dns`; absent from @moddable/typings 5.6). */
export interface DnsProvider {
  io: new (options: object) => {
    resolve(request: { host: string; onResolved(host: string, address: string): void; onError(host: string): void }): void;
    close(): void;
  };
}

/** A socket of either kind, as used here. */
interface Socket {
  read(count: number): ArrayBuffer | undefined;
  write(bytes: ArrayBuffer): unknown;
  close(): void;
}

type SocketConstructor = new (options: object) => Socket;
const TcpSocket = TCP as unknown as SocketConstructor;
const TlsSocket = TLSSocket as unknown as SocketConstructor;

/**
 * The Transport seam on Moddable: ECMA-419 TCP sockets, TLS through `embedded:io/socket/tcp/tls` with the root
 * certificates built into the firmware (manifest `resources`) or given as PEM, and a client certificate for AWS IoT.
 */
export class ModdableTransport implements Transport {
  readonly #dns: DnsProvider | undefined;
  readonly #dnsOptions: object;

  constructor(dns: DnsProvider | undefined, dnsOptions: object) {
    this.#dns = dns;
    this.#dnsOptions = dnsOptions;
  }

  async connect(target: ConnectTarget, handlers: ConnectionHandlers): Promise<Connection> {
    const address = target.tls ? target.host : await this.#resolve(target.host);
    return new Promise((resolve, reject) => {
      let open = false;
      let closed = false;
      const finish = (error?: Error) => {
        if (closed) return;
        closed = true;
        if (open) handlers.onClose(error);
        else reject(error ?? new TransportError("CLOSED", `connection to ${target.host}:${target.port} closed before it opened`));
      };
      const events = {
        onReadable(this: Socket, count: number) {
          const bytes = this.read(count);
          if (bytes) handlers.onData(new Uint8Array(bytes));
        },
        onWritable() {
          if (open) return;
          open = true;
          resolve(connection);
        },
        onError() {
          finish(new TransportError("IO", `connection to ${target.host}:${target.port} failed or was closed by the server`));
        },
      };
      const socket: Socket = target.tls
        ? (new TlsSocket({
            host: target.tls.serverName ?? target.host,
            port: target.port,
            secure: {
              protocolVersion: 0x303,
              // Moddable's TLS registers one trusted certificate (a DER ArrayBuffer, not a list); the roots in the
              // manifest's "data" (Google Trust Services R1/R4, Starfield G2) are found by key id without it.
              ...(target.tls.ca && target.tls.ca.length > 0 ? { certificate: pemToDer(target.tls.ca[0]!) } : {}),
              ...(target.tls.certificate && target.tls.key
                ? { clientCertificates: [pemToDer(target.tls.certificate)], clientKey: pemToDer(target.tls.key) }
                : {}),
              ...(target.tls.alpn ? { applicationLayerProtocolNegotiation: target.tls.alpn } : {}),
            },
            format: "buffer",
            ...events,
          }))
        : (new TcpSocket({ address, port: target.port, nodelay: true, format: "buffer", ...events }));
      const connection: Connection = {
        write(bytes) {
          if (closed) throw new TransportError("CLOSED", `connection to ${target.host}:${target.port} is closed`);
          socket.write(bytes.slice().buffer);
        },
        close() {
          if (closed) return;
          socket.close();
          finish();
        },
      };
    });
  }

  #resolve(host: string): Promise<string> {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return Promise.resolve(host);
    const dns = this.#dns;
    if (!dns) {
      return Promise.reject(new TransportError("DNS", `cannot resolve ${host}: this build has no DNS (include the network manifest and set ssid)`));
    }
    return new Promise((resolve, reject) => {
      const resolver = new dns.io(this.#dnsOptions);
      resolver.resolve({
        host,
        onResolved(_host, address) {
          resolver.close();
          resolve(address);
        },
        onError() {
          resolver.close();
          reject(new TransportError("DNS", `cannot resolve ${host}: check Wi-Fi and the host name`));
        },
      });
    });
  }
}

/** PEM text to DER bytes (base64 body between the armour lines). */
function pemToDer(pem: string): ArrayBuffer {
  const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const clean = body.replace(/=+$/, "");
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const char of clean) {
    value = (value << 6) | alphabet.indexOf(char);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  return out.buffer;
}
