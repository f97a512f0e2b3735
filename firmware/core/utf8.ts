/**
 * UTF-8 without TextEncoder/TextDecoder, which a Moddable device build does not provide as globals.
 */

export function utf8Encode(text: string): Uint8Array {
  const out = new Uint8Array(utf8Length(text));
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd; // lone surrogate
    if (code < 0x80) out[at++] = code;
    else if (code < 0x800) {
      out[at++] = 0xc0 | (code >> 6);
      out[at++] = 0x80 | (code & 0x3f);
    } else if (code < 0x10000) {
      out[at++] = 0xe0 | (code >> 12);
      out[at++] = 0x80 | ((code >> 6) & 0x3f);
      out[at++] = 0x80 | (code & 0x3f);
    } else {
      out[at++] = 0xf0 | (code >> 18);
      out[at++] = 0x80 | ((code >> 12) & 0x3f);
      out[at++] = 0x80 | ((code >> 6) & 0x3f);
      out[at++] = 0x80 | (code & 0x3f);
    }
  }
  return out;
}

export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) length += 1;
    else if (code < 0x800) length += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        length += 4;
        i++;
      } else length += 3;
    } else length += 3;
  }
  return length;
}

/** Result of strict decoding: the text, or the offset of the first invalid byte. */
export type Utf8Result = { ok: true; text: string } | { ok: false; offset: number };

/** Decodes strictly: overlong forms, surrogates and truncated sequences are rejected with their offset. */
export function utf8DecodeStrict(bytes: Uint8Array, start = 0, end = bytes.length): Utf8Result {
  let text = "";
  let i = start;
  while (i < end) {
    const b0 = bytes[i]!;
    let code: number;
    let size: number;
    if (b0 < 0x80) {
      code = b0;
      size = 1;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      size = 2;
      code = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      size = 3;
      code = b0 & 0x0f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      size = 4;
      code = b0 & 0x07;
    } else return { ok: false, offset: i };
    if (i + size > end) return { ok: false, offset: i };
    for (let k = 1; k < size; k++) {
      const b = bytes[i + k]!;
      if ((b & 0xc0) !== 0x80) return { ok: false, offset: i };
      code = (code << 6) | (b & 0x3f);
    }
    if (
      (size === 3 && (code < 0x800 || (code >= 0xd800 && code <= 0xdfff))) ||
      (size === 4 && (code < 0x10000 || code > 0x10ffff))
    ) {
      return { ok: false, offset: i };
    }
    if (code >= 0x10000) {
      code -= 0x10000;
      text += String.fromCharCode(0xd800 + (code >> 10), 0xdc00 + (code & 0x3ff));
    } else text += String.fromCharCode(code);
    i += size;
  }
  return { ok: true, text };
}

/** Decodes leniently: invalid sequences become U+FFFD. For logs and display, never for protocol fields. */
export function utf8Decode(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let text = "";
  let i = start;
  while (i < end) {
    const strict = utf8DecodeStrict(bytes, i, end);
    if (strict.ok) return text + strict.text;
    const good = utf8DecodeStrict(bytes, i, strict.offset);
    if (good.ok) text += good.text;
    text += "\ufffd";
    i = strict.offset + 1;
  }
  return text;
}
