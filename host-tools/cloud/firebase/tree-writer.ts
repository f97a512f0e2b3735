import type { JsonValue } from "../../../firmware/net/firebase/ordering.ts";

type JsonObject = { [key: string]: JsonValue };

export interface TreeWriterOptions {
  /** How long one slice of work may hold the event loop; 8 ms by default. */
  sliceMs?: number;
  /** Instead of the clock, pause after this many nodes (tests use it to write between slices). */
  nodesPerSlice?: number;
  /** What a pause is; by default one turn of the event loop (setImmediate). */
  pause?: () => Promise<void>;
}

const FLUSH_CHARS = 1 << 20;
const hasOwn = (object: object, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key);

/**
 * Writes a tree as JSON to `sink` in slices, letting the event loop serve between them, while the tree goes on
 * changing in place. The text is then "fuzzy": each location holds its value as of when it was reached. Replaying
 * every write made since the start over it gives the latest tree all the same — a location that did change has a
 * write at it, above it or below it among those, and the last of them decides its value — so it serves as a
 * snapshot under a log that starts where this started.
 */
export async function writeTree(root: JsonValue, sink: (text: string) => Promise<void>, options: TreeWriterOptions = {}): Promise<void> {
  const pause = options.pause ?? (() => new Promise<void>((resolve) => setImmediate(resolve)));
  const sliceMs = options.sliceMs ?? 8;
  let parts: string[] = [];
  let chars = 0;
  let nodes = 0;
  let sliceStart = performance.now();
  const emit = (text: string) => {
    parts.push(text);
    chars += text.length;
  };
  /** After each node: hands the text on when there is plenty, and pauses when the slice is over. */
  const slice = async (due: boolean) => {
    const text = parts.join("");
    parts = [];
    chars = 0;
    await sink(text);
    if (due) {
      await pause();
      sliceStart = performance.now();
    }
  };
  const isDue = () => (options.nodesPerSlice !== undefined ? nodes % options.nodesPerSlice === 0 : (nodes & 255) === 0 && performance.now() - sliceStart >= sliceMs);

  if (root === null || typeof root !== "object") {
    emit(JSON.stringify(root));
  } else {
    const stack: { object: JsonObject; keys: string[]; next: number; first: boolean }[] = [{ object: root as JsonObject, keys: Object.keys(root), next: 0, first: true }];
    emit("{");
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      if (top.next === top.keys.length) {
        stack.pop();
        emit("}");
        continue;
      }
      const key = top.keys[top.next++]!;
      if (!hasOwn(top.object, key)) continue; // deleted since this object was reached
      const value = top.object[key]!;
      emit(`${top.first ? "" : ","}${JSON.stringify(key)}:`);
      top.first = false;
      if (value !== null && typeof value === "object") {
        stack.push({ object: value as JsonObject, keys: Object.keys(value), next: 0, first: true });
        emit("{");
      } else {
        emit(JSON.stringify(value));
      }
      nodes++;
      const due = isDue();
      if (due || chars >= FLUSH_CHARS) await slice(due);
    }
  }
  if (parts.length) await sink(parts.join(""));
}
