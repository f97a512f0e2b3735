/**
 * How deeply JSON text nests objects and arrays, found in one pass over the text without parsing it, so that text
 * nested deeper than a limit can be refused before JSON.parse (recursive in some engines) sees it.
 * Returns the depth, or `limit + 1` as soon as the text goes deeper than `limit`. Brackets inside strings do not
 * count; the text is not otherwise checked (JSON.parse does that).
 */
export function jsonNesting(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return limit + 1;
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return deepest;
}
