/** Moddable's TLS session (`modules/crypt/ssl/session_419.js`), as the firmware's TLS stream drives it. */
declare module "ssl/session" {
  /** The byte source and sink a session reads records from and writes records to; it updates both counts itself. */
  export interface SessionSocket {
    readable: number;
    writable: number;
    read(target: Uint8Array): void;
    write(packet: ArrayBuffer | ArrayBufferView): number;
  }

  export default class SSLSession {
    constructor(options: Record<string, unknown>);
    handshakeProcess: number;
    alert?: { level: number; description: number };
    initiateHandshake(): void;
    /** True once the handshake is over, or an alert ended it. Throws on a certificate or protocol failure. */
    handshake(socket: SessionSocket): boolean;
    /** Application data; undefined when no whole record is there yet, null when the peer ended the session. */
    read(socket: SessionSocket): Uint8Array | null | undefined;
    write(socket: SessionSocket, data: Uint8Array): number;
    close(socket: SessionSocket): void;
  }
}
