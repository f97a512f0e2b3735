import { SocketLink } from "../link/socket-link.ts";

/**
 * The part of the Web Serial API's SerialPort that esptool-js uses (open, readable, writable, setSignals, getInfo,
 * close, plus esptool-js's optional in-place setBaudRate), over a socket:// connection. It lets the browser flasher
 * run on Node against the chip simulator, as a peer to check esplab against.
 */
export class WebSerialSocketPort {
  readable: ReadableStream<Uint8Array> | null = null;
  writable: WritableStream<Uint8Array> | null = null;
  readonly #url: string;
  #link: SocketLink | undefined;

  constructor(url: string) {
    this.#url = url;
  }

  async open(options: { baudRate: number }): Promise<void> {
    const link = await SocketLink.open(this.#url, options.baudRate);
    this.#link = link;
    let unsubscribe = () => {};
    this.readable = new ReadableStream<Uint8Array>({
      start(controller) {
        unsubscribe = link.onData((bytes) => controller.enqueue(bytes.slice()));
        link.onClose(() => {
          try {
            controller.close();
          } catch {
            // already closed or cancelled
          }
        });
      },
      cancel() {
        unsubscribe();
      },
    });
    this.writable = new WritableStream<Uint8Array>({ write: (chunk) => link.write(chunk) });
  }

  async setBaudRate(baud: number): Promise<void> {
    await this.#link?.setBaud(baud);
  }

  /** A socket has no modem lines; resets are no-ops, as on a board wired without them. */
  async setSignals(_signals: { dataTerminalReady?: boolean; requestToSend?: boolean; break?: boolean }): Promise<void> {}

  getInfo(): { usbVendorId?: number; usbProductId?: number } {
    return {};
  }

  async close(): Promise<void> {
    await this.#link?.close();
    this.#link = undefined;
    this.readable = null;
    this.writable = null;
  }
}
