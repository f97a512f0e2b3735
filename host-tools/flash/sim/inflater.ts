import { constants, createInflate, type Inflate } from "node:zlib";

/** Inflates a zlib stream block by block, as the chip does with FLASH_DEFL_DATA payloads. */
export class StreamInflater {
  readonly #inflate: Inflate = createInflate();
  #output: Buffer[] = [];
  #error: Error | undefined;

  constructor() {
    this.#inflate.on("data", (chunk: Buffer) => this.#output.push(chunk));
    this.#inflate.on("error", (error) => (this.#error = error));
  }

  /** Feeds one compressed block; resolves with the bytes it produced, rejects on a corrupt stream. */
  async push(block: Uint8Array): Promise<Uint8Array> {
    if (this.#error) throw this.#error;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#inflate.once("error", onError);
      this.#inflate.write(block);
      this.#inflate.flush(constants.Z_SYNC_FLUSH, () => {
        this.#inflate.off("error", onError);
        resolve();
      });
    });
    // 'data' events for the flushed bytes may trail the flush callback by a tick.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.#error) throw this.#error;
    const out = Buffer.concat(this.#output);
    this.#output = [];
    return out;
  }

  close(): void {
    this.#inflate.destroy();
  }
}
