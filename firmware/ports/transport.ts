/**
 * A byte stream to a host, TCP or TLS. Protocol code (HTTP, SSE, MQTT) sits on this and owns no socket, the way
 * coreMQTT and coreHTTP sit on a transport interface.
 */

export interface TlsOptions {
  /** Server name for SNI and certificate checks; defaults to the host. */
  serverName?: string;
  /** PEM root certificates to trust instead of the platform's store. */
  ca?: string[];
  /** PEM client certificate and key (X.509 device identity, e.g. AWS IoT Core). */
  certificate?: string;
  key?: string;
  /** ALPN protocol names, e.g. ["x-amzn-mqtt-ca"] for AWS IoT on port 443. */
  alpn?: string[];
}

export interface ConnectTarget {
  host: string;
  port: number;
  tls?: TlsOptions;
  /** Give up connecting after this long. */
  timeoutMs?: number;
}

export interface ConnectionHandlers {
  /** Bytes arrived. The array is the receiver's to keep. */
  onData(bytes: Uint8Array): void;
  /** The stream ended; `error` says why when it was not a clean close. Called once. */
  onClose(error?: Error): void;
}

export interface Connection {
  /** Queues bytes for sending. Throws TransportClosedError after close. */
  write(bytes: Uint8Array): void;
  /** Closes the stream; onClose follows. Safe to call twice. */
  close(): void;
}

export interface Transport {
  /** Opens a stream; rejects with a TransportError that says what failed (DNS, refused, TLS, timeout). */
  connect(target: ConnectTarget, handlers: ConnectionHandlers): Promise<Connection>;
}
