import { SerialPort } from "serialport";
import { type ByteLink, type ControlLines, LinkError } from "./link.ts";

/** A USB serial port (or a pseudo-terminal) through `serialport`. */
export class SerialLink implements ByteLink {
  #hasControlLines = true;
  readonly #port: SerialPort;
  readonly #closeListeners = new Set<(error?: Error) => void>();
  readonly #dataListeners = new Set<(bytes: Uint8Array) => void>();
  #closing = false;

  private constructor(readonly name: string, port: SerialPort) {
    this.#port = port;
    port.on("close", (error?: Error & { disconnected?: boolean }) => {
      const broke = error ?? (this.#closing ? undefined : new Error("the port closed"));
      for (const listener of this.#closeListeners) listener(broke && new LinkError("disconnected", `${name} went away (${broke.message}) — was the board unplugged?`, { cause: broke }));
    });
    port.on("error", () => {});
    // Always reading keeps the port flowing, which is also how a vanished device is noticed.
    port.on("data", (chunk: Buffer) => {
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (const listener of this.#dataListeners) listener(bytes);
    });
  }

  static async open(path: string, baud: number): Promise<SerialLink> {
    const port = new SerialPort({ path, baudRate: baud, autoOpen: false, lock: true });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(explainOpenError(path, error)) : resolve())));
    return new SerialLink(path, port);
  }

  get baud(): number {
    return this.#port.baudRate;
  }

  get hasControlLines(): boolean {
    return this.#hasControlLines;
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (error) => {
        if (error) return reject(new LinkError("write-failed", `writing to ${this.name} failed: ${error.message}`, { cause: error }));
        this.#port.drain((drainError) => (drainError ? reject(new LinkError("write-failed", `writing to ${this.name} failed: ${drainError.message}`, { cause: drainError })) : resolve()));
      });
    });
  }

  onData(listener: (bytes: Uint8Array) => void): () => void {
    this.#dataListeners.add(listener);
    return () => this.#dataListeners.delete(listener);
  }

  onClose(listener: (error?: Error) => void): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /** Both lines in one ioctl (serialport's set() fills in any line left out, so both are always given). */
  async setLines(lines: ControlLines): Promise<boolean> {
    if (!this.#hasControlLines) return false;
    try {
      await new Promise<void>((resolve, reject) => this.#port.set({ dtr: lines.dtr, rts: lines.rts }, (error) => (error ? reject(error) : resolve())));
      return true;
    } catch (error) {
      // A pseudo-terminal (or an adapter without modem lines) refuses the ioctl: carry on without resets.
      if (/Inappropriate ioctl|ENOTTY|not supported/i.test((error as Error).message)) {
        this.#hasControlLines = false;
        return false;
      }
      throw new LinkError("set-lines-failed", `setting DTR/RTS on ${this.name} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  setBaud(baud: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#port.update({ baudRate: baud }, (error) =>
        error ? reject(new LinkError("baud-failed", `${this.name} cannot run at ${baud} baud (${error.message}); pick another --baud`, { cause: error })) : resolve(),
      ),
    );
  }

  close(): Promise<void> {
    if (!this.#port.isOpen) return Promise.resolve();
    this.#closing = true;
    return new Promise((resolve) => this.#port.close(() => resolve()));
  }
}

/** Turns the OS's open failure into what to do about it. */
export function explainOpenError(path: string, error: Error): LinkError {
  const message = error.message;
  if (/No such file|ENOENT|cannot find/i.test(message)) {
    return new LinkError("no-such-port", `${path} does not exist. Is the board plugged in? Run \`esplab ports\` to see the serial ports.`, { cause: error });
  }
  if (/Permission denied|EACCES|Access denied/i.test(message)) {
    return new LinkError(
      "permission-denied",
      `no permission to open ${path}. Add yourself to the group that owns it — on Debian/Ubuntu: sudo usermod -aG dialout $USER (on Arch: uucp) — then log out and back in.`,
      { cause: error },
    );
  }
  if (/lock|busy|EBUSY|temporarily unavailable/i.test(message)) {
    return new LinkError("port-busy", `${path} is in use by another program (a serial monitor, the Arduino IDE, screen, another esplab?). Close it and try again.`, { cause: error });
  }
  return new LinkError("open-failed", `cannot open ${path}: ${message}`, { cause: error });
}
