import fs from "node:fs";

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

const writeSome = (fd: number, data: Buffer, from: number) =>
  new Promise<number>((resolve, reject) => fs.write(fd, data, from, data.length - from, null, (error, written) => (error ? reject(error) : resolve(written))));

/** All of `data`, however many calls the file system takes. */
async function write(fd: number, data: Buffer): Promise<void> {
  for (let from = 0; from < data.length; ) from += await writeSome(fd, data, from);
}
const fsync = (fd: number) => new Promise<void>((resolve, reject) => fs.fsync(fd, (error) => (error ? reject(error) : resolve())));

/**
 * An append-only file with group commit: the records that arrive while one fsync runs (or in the same turn of the
 * event loop) go out together with a single write and a single fsync, and each append's promise resolves only once
 * its record is on disk. Writes and fsyncs run on libuv's threads, so the event loop keeps serving meanwhile.
 */
export class GroupCommitLog {
  #fd: number;
  #pending: string[] = [];
  #waiters: Waiter[] = [];
  #running: Promise<void> | undefined;
  /** Bytes appended to the current file (this process's and what it held when opened). */
  bytes: number;

  /** `afterBatch` runs between batches, when every record appended so far is durable and none is being written. */
  constructor(fd: number, private readonly afterBatch: () => void = () => {}) {
    this.#fd = fd;
    this.bytes = fs.fstatSync(fd).size;
  }

  append(record: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push(record);
      this.#waiters.push({ resolve, reject });
      this.#running ??= this.#run();
    });
  }

  /** Sends later batches to another file (call it from afterBatch); returns the previous file, now idle. */
  switchTo(fd: number): number {
    const previous = this.#fd;
    this.#fd = fd;
    this.bytes = 0;
    return previous;
  }

  /** Resolves once everything appended so far is durable. */
  async drained(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Closes the file; call after drained(). */
  close(): void {
    fs.closeSync(this.#fd);
  }

  async #run(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#pending.length) {
      const data = Buffer.from(this.#pending.join(""), "utf8");
      const waiters = this.#waiters;
      this.#pending = [];
      this.#waiters = [];
      try {
        await write(this.#fd, data);
        await fsync(this.#fd);
        this.bytes += data.length;
        for (const waiter of waiters) waiter.resolve();
      } catch (error) {
        for (const waiter of waiters) waiter.reject(error as Error);
      }
      this.afterBatch();
    }
    this.#running = undefined;
  }
}
