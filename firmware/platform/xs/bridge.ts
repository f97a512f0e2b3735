import { EsplabError } from "../../core/errors.ts";
import { utf8Decode, utf8Encode } from "../../core/utf8.ts";

/** xsnap-worker's synchronous call to the host: the engine blocks until the host answers. */
declare const issueCommand: (request: ArrayBuffer) => ArrayBuffer;

/** Calls the laptop host from inside XS: one JSON request, one JSON answer. Host errors are rethrown here. */
export function callHost<T = unknown>(op: string, args?: unknown): T {
  const request = utf8Encode(JSON.stringify({ op, args }));
  const reply = JSON.parse(utf8Decode(new Uint8Array(issueCommand(request.slice().buffer)))) as
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
