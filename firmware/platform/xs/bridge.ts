import { EsplabError } from "../../core/errors.ts";

/** xsnap-worker's synchronous call to the host: the engine blocks until the host answers. */
declare const issueCommand: (request: ArrayBuffer) => ArrayBuffer;

/**
 * xsnap has TextEncoder and TextDecoder as globals (a device build does not, and Moddable's linker preloads this
 * module, so they are made on first use). In C they take a microsecond where UTF-8 in JavaScript takes tens, and
 * every seam call crosses twice.
 */
declare const TextEncoder: new () => { encode(text: string): Uint8Array };
declare const TextDecoder: new () => { decode(bytes: Uint8Array): string };
let encoder: { encode(text: string): Uint8Array } | undefined;
let decoder: { decode(bytes: Uint8Array): string } | undefined;

export const encodeText = (text: string): Uint8Array => (encoder ??= new TextEncoder()).encode(text);
export const decodeText = (bytes: Uint8Array): string => (decoder ??= new TextDecoder()).decode(bytes);

/** Calls the laptop host from inside XS: one JSON request, one JSON answer. Host errors are rethrown here. */
export function callHost<T = unknown>(op: string, args?: unknown): T {
  const bytes = encodeText(JSON.stringify({ op, args }));
  const request = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer;
  const reply = JSON.parse(decodeText(new Uint8Array(issueCommand(request)))) as
    | { ok: true; value: T }
    | { error: string; code?: string };
  if ("error" in reply) throw new EsplabError(reply.code ?? "HOST", reply.error);
  return reply.value;
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function toBase64(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    out += BASE64[a >> 2]! + BASE64[((a & 3) << 4) | ((b ?? 0) >> 4)]!;
    out += b === undefined ? "=" : BASE64[((b & 15) << 2) | ((c ?? 0) >> 6)]!;
    out += c === undefined ? "=" : BASE64[c & 63]!;
  }
  return out;
}

export function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/=+$/, "");
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (let i = 0; i < clean.length; i++) {
    value = ((value << 6) | BASE64.indexOf(clean[i]!)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  return out;
}
