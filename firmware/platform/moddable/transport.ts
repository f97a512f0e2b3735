import Timer from "timer";
import { TransportError } from "../../core/errors.ts";
import type { Connection, ConnectionHandlers, ConnectTarget, Transport } from "../../ports/transport.ts";
import { clientKeyDer, pemToDer } from "./pem.ts";
import { type ByteStream, TcpStream } from "./tcp-stream.ts";
import { TlsStream } from "./tls-stream.ts";

/** A lookup as Moddable's resolver (`embedded:network/dns/resolver/udp`) takes it; it calls back once. */
interface DnsRequest {
  host: string;
  onResolved(host: string, address: string): void;
  onError(host: string): void;
}

/** How the transport resolves host names: Moddable's resolver class, the UDP class it sends with, the servers. */
export interface DnsSettings {
  Resolver: new (options: { servers: string[]; socket: { io: unknown } }) => { resolve(request: DnsRequest): void; close(): void };
  UDP: unknown;
  servers(): string[];
}

const CONNECT_TIMEOUT_MS = 30_000;

/**
 * The Transport seam on Moddable: ECMA-419 TCP with host names resolved by the given DNS resolver, and TLS through
 * the firmware's TlsStream (Moddable's `ssl/session`) with the roots built into the firmware (manifest `data`) or a
 * PEM CA from the settings, and a client certificate for AWS IoT. Every failure — DNS, refused, TLS, timeout —
 * rejects `connect` or reaches `onClose` as a TransportError.
 */
export class ModdableTransport implements Transport {
  readonly #dns: DnsSettings | undefined;

  constructor(dns?: DnsSettings) {
    this.#dns = dns;
  }

  async connect(target: ConnectTarget, handlers: ConnectionHandlers): Promise<Connection> {
    const what = `${target.tls ? "TLS" : "TCP"} to ${target.host}:${target.port}`;
    const secure = target.tls ? secureOptions(target.tls) : undefined;
    const address = await this.#resolve(target.host);
    return new Promise((resolve, reject) => {
      let open = false;
      let ended = false;
      let stream: ByteStream | undefined;
      const timeoutMs = target.timeoutMs ?? CONNECT_TIMEOUT_MS;
      const timer = Timer.set(() => end(new TransportError("TIMEOUT", `${what}: no connection after ${timeoutMs} ms`)), timeoutMs);
      const end = (error?: Error) => {
        if (ended) return;
        ended = true;
        Timer.clear(timer);
        stream?.close();
        if (open) handlers.onClose(error);
        else reject(error ?? new TransportError("CLOSED", `${what}: closed before it opened`));
      };
      const events = {
        onOpen() {
          open = true;
          Timer.clear(timer);
          resolve(connection);
        },
        onData: (bytes: Uint8Array) => handlers.onData(bytes),
        onError: (error: Error) => end(error),
      };
      const connection: Connection = {
        write(bytes) {
          if (ended) throw new TransportError("CLOSED", `${what}: the connection is closed`);
          stream!.write(bytes);
        },
        close: () => end(),
      };
      try {
        stream = secure
          ? new TlsStream({ address, port: target.port, serverName: target.tls!.serverName ?? target.host, secure }, events, what)
          : new TcpStream({ address, port: target.port }, events, what);
      } catch (error) {
        end(error instanceof TransportError ? error : new TransportError("IO", `${what}: ${(error as Error).message}`, { cause: error }));
      }
    });
  }

  #resolve(host: string): Promise<string> {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return Promise.resolve(host);
    const dns = this.#dns;
    if (!dns) return Promise.reject(new TransportError("DNS", `cannot resolve ${host}: this build has no DNS resolver`));
    return new Promise((resolve, reject) => {
      const fail = () => reject(new TransportError("DNS", `cannot resolve ${host}: no DNS server knows it; check the host name and the network`));
      try {
        const resolver = new dns.Resolver({ servers: dns.servers(), socket: { io: dns.UDP } });
        resolver.resolve({
          host,
          onResolved(_host, address) {
            resolver.close();
            resolve(address);
          },
          onError() {
            resolver.close();
            fail();
          },
        });
      } catch (error) {
        reject(new TransportError("DNS", `cannot resolve ${host}: ${(error as Error).message}`, { cause: error }));
      }
    });
  }
}

/** The settings' TLS options as Moddable's session takes them: DER, the client key as PKCS#8. */
function secureOptions(tls: NonNullable<ConnectTarget["tls"]>): Record<string, unknown> {
  return {
    // Moddable's TLS registers one trusted certificate (a DER ArrayBuffer, not a list); the roots in the
    // manifest's "data" (Google Trust Services R1/R4, Starfield G2) are found by key id without it.
    ...(tls.ca && tls.ca.length > 0 ? { certificate: pemToDer(tls.ca[0]!).buffer } : {}),
    ...(tls.certificate && tls.key ? { clientCertificates: [pemToDer(tls.certificate).buffer], clientKey: clientKeyDer(tls.key).buffer } : {}),
    ...(tls.alpn ? { applicationLayerProtocolNegotiation: tls.alpn } : {}),
  };
}
