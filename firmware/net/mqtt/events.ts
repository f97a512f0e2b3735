/** A small typed event emitter: listeners per event name, each call returns a function that removes it. */
export class Emitter<Events extends Record<string, unknown>> {
  readonly #listeners: { [K in keyof Events]?: ((value: Events[K]) => void)[] } = {};

  on<K extends keyof Events>(event: K, listener: (value: Events[K]) => void): () => void {
    (this.#listeners[event] ??= []).push(listener);
    return () => {
      const list = this.#listeners[event];
      if (list) this.#listeners[event] = list.filter((l) => l !== listener);
    };
  }

  /** Calls every listener; one that throws does not stop the others. Returns the errors thrown. */
  emit<K extends keyof Events>(event: K, value: Events[K]): unknown[] {
    const thrown: unknown[] = [];
    for (const listener of this.#listeners[event] ?? []) {
      try {
        listener(value);
      } catch (error) {
        thrown.push(error);
      }
    }
    return thrown;
  }

  count(event: keyof Events): number {
    return this.#listeners[event]?.length ?? 0;
  }
}
