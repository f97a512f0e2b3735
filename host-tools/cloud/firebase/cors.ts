import type http from "node:http";

/**
 * Which browser pages may use the local emulator. Firebase's own database emulator (like the production database)
 * answers `Access-Control-Allow-Origin: *` and its Auth emulator reflects any origin; this one keeps to the machine:
 * pages served from this computer (http://localhost, 127.0.0.1 or [::1], any port) and the origins configured.
 * A request carrying any other Origin is refused outright, so a website the student visits can neither read the
 * local database nor write to it with a form-style request. Clients that are not browsers send no Origin and are
 * unaffected. `["*"]` restores Firebase's answer for everyone.
 */
export function corsHeaders(request: http.IncomingMessage, allowed: readonly string[]): { headers: Record<string, string> } | { refused: string } {
  const origin = request.headers.origin;
  if (origin === undefined) return { headers: {} };
  if (allowed.includes("*")) return { headers: { "Access-Control-Allow-Origin": "*" } };
  if (LOCAL_ORIGIN.test(origin) || allowed.includes(origin)) return { headers: { "Access-Control-Allow-Origin": origin, Vary: "Origin" } };
  return {
    refused: `requests from ${origin.slice(0, 100)} are refused: the local emulator answers pages on this computer (http://localhost:…, http://127.0.0.1:…) and the origins given in corsOrigins`,
  };
}

const LOCAL_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/i;

/**
 * A JSONP answer (callback=…) is a script any page may load, Origin or not, so it goes only to pages the emulator
 * serves browsers for: a browser marks a script from another site `Sec-Fetch-Site: cross-site`, and its Referer names
 * the page. Clients that are not browsers send neither and are unaffected.
 */
export function scriptRefusal(request: http.IncomingMessage, allowed: readonly string[]): string | undefined {
  if (allowed.includes("*") || request.headers["sec-fetch-site"] !== "cross-site") return undefined;
  let origin: string | undefined;
  try {
    origin = request.headers.referer ? new URL(request.headers.referer).origin : undefined;
  } catch {
    origin = undefined;
  }
  if (origin && (LOCAL_ORIGIN.test(origin) || allowed.includes(origin))) return undefined;
  return `a JSONP script for ${(origin ?? "another site").slice(0, 100)} is refused: the local emulator answers pages on this computer (http://localhost:…, http://127.0.0.1:…) and the origins given in corsOrigins`;
}
