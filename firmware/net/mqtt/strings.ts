/**
 * MQTT's UTF-8 strings (§1.5.3): a two-byte length then well-formed UTF-8 with no U+0000 and no surrogate code
 * points, at most 65 535 bytes. These checks answer with a reason instead of throwing so the encoder (caller's
 * mistake) and the decoder (peer's mistake) raise their own error types.
 */
import { utf8Length } from "../../core/utf8.ts";

export const MAX_STRING_BYTES = 65_535;

/** Why `text` cannot be sent as an MQTT string, or undefined when it can. */
export function stringProblem(text: string): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0) return `it contains U+0000 at index ${i}, which MQTT forbids in strings`;
    if (code >= 0xd800 && code <= 0xdbff) {
      const low = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (low >= 0xdc00 && low <= 0xdfff) i++;
      else return `it contains a lone surrogate at index ${i}, which is not valid UTF-8`;
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      return `it contains a lone surrogate at index ${i}, which is not valid UTF-8`;
    }
  }
  const bytes = utf8Length(text);
  if (bytes > MAX_STRING_BYTES) return `it is ${bytes} bytes of UTF-8; MQTT strings hold at most ${MAX_STRING_BYTES}`;
  return undefined;
}

/** Shows a string from a peer or a caller in an error message, shortened. */
export function quote(text: string, max = 60): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
