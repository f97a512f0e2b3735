/** The virtual board's wire inside Moddable's Linux runtime (board.js, board.c). */
declare module "esplab/board" {
  export function call(request: string): string;
  export function listen(callback: (event: string) => void): void;
  /** JSON: stackSlots, stackPeakSlots, heapSlots, heapPeakSlots, chunkBytes, chunkPeakBytes, slotBytes. */
  export function memory(): string;
}
