/** Packet identifiers 1–65535 (MQTT 3.1.1 §2.3.1): handed out in turn, never one that is still in use. */
export class PacketIds {
  #next = 1;
  readonly #used = new Set<number>();

  get inUse(): number {
    return this.#used.size;
  }

  /** A free id, or undefined when all 65 535 are taken. */
  take(): number | undefined {
    if (this.#used.size >= 0xffff) return undefined;
    while (this.#used.has(this.#next)) this.#next = this.#next === 0xffff ? 1 : this.#next + 1;
    const id = this.#next;
    this.#next = id === 0xffff ? 1 : id + 1;
    this.#used.add(id);
    return id;
  }

  /** Marks an id taken (e.g. one restored from storage). */
  reserve(id: number): void {
    this.#used.add(id);
  }

  has(id: number): boolean {
    return this.#used.has(id);
  }

  release(id: number): void {
    this.#used.delete(id);
  }
}
