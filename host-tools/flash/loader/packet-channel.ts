import { TimeoutError } from "../../../firmware/core/errors.ts";
import { type ByteLink, LinkError } from "../link/link.ts";
import { SlipDecoder, slipEncode } from "../protocol/slip.ts";

/**
 * SLIP packets over a ByteLink: sends frames, queues the ones that arrive, and keeps the plain text the chip printed
 * between packets (its boot log), which explains most failed connections.
 */
export class PacketChannel {
  readonly link: ByteLink;
  readonly #decoder = new SlipDecoder(0x4000 + 0x400);
  readonly #frames: Uint8Array[] = [];
  #waiter: (() => void) | undefined;
  #closedBy: Error | undefined;
  #noise = "";
  #corruptFrames = 0;
  /** Bytes received so far, to tell when the line has gone quiet. */
  #received = 0;
  readonly #unsubscribe: Array<() => void>;

  constructor(link: ByteLink) {
    this.link = link;
    this.#unsubscribe = [
      link.onData((bytes) => this.#receive(bytes)),
      link.onClose((error) => {
        this.#closedBy = new LinkError("disconnected", `${link.name} closed${error ? `: ${error.message}` : ""} — is the board still plugged in?`, { cause: error });
        this.#waiter?.();
      }),
    ];
  }

  /** Text the chip printed outside packets since the last call (at most the last 2 KB). */
  takeNoise(): string {
    const text = this.#noise;
    this.#noise = "";
    return text;
  }

  get corruptFrames(): number {
    return this.#corruptFrames;
  }

  async send(packet: Uint8Array): Promise<void> {
    if (this.#closedBy) throw this.#closedBy;
    await this.link.write(slipEncode(packet));
  }

  /** The next frame, or a TimeoutError after `timeoutMs`; rejects with a LinkError if the link closes. */
  async next(timeoutMs: number, what: string): Promise<Uint8Array> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const frame = this.#frames.shift();
      if (frame) return frame;
      if (this.#closedBy) throw this.#closedBy;
      const left = deadline - performance.now();
      if (left <= 0) throw new TimeoutError("no-reply", `no reply to ${what} within ${Math.round(timeoutMs)} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
  }

  /** Forgets queued frames and half-received bytes (after a timeout or a baud change). */
  discardInput(): void {
    this.#frames.length = 0;
    this.#decoder.reset();
  }

  /** Waits until the line has been quiet for `quietMs`, discarding whatever arrives meanwhile. */
  async drain(quietMs: number, maxMs = 10 * quietMs): Promise<void> {
    const start = performance.now();
    for (;;) {
      this.discardInput();
      const before = this.#received;
      await new Promise((resolve) => setTimeout(resolve, quietMs));
      if (this.#received === before || performance.now() - start > maxMs) break;
    }
    this.discardInput();
  }

  close(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
  }

  #receive(bytes: Uint8Array): void {
    this.#received += bytes.length;
    for (const event of this.#decoder.push(bytes)) {
      if (event.kind === "frame") this.#frames.push(event.data);
      else if (event.kind === "corrupt") this.#corruptFrames++;
      else this.#noise = (this.#noise + new TextDecoder().decode(event.bytes)).slice(-2048);
    }
    if (this.#frames.length > 0) this.#waiter?.();
  }
}
