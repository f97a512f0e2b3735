/** RFC 9110's `tchar`s besides letters and digits: what a method or a header name may hold. */
const TOKEN_SYMBOLS = "!#$%&'*+-.^_`|~";

/** Whether `text` is an HTTP token (a method, a header name): one or more tchars. */
export function isHttpToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const alphanumeric = (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
    if (!alphanumeric && !TOKEN_SYMBOLS.includes(text[i]!)) return false;
  }
  return true;
}
