/**
 * The REST API's request-wide query parameters (https://firebase.google.com/docs/reference/rest/database, "Query
 * parameters"): checked before anything is read or written, so a mistyped one is a 400 naming the fix instead of a
 * parameter silently ignored.
 */

export class ParameterError extends Error {}

/** The query parameters an ordered query takes; each may be given once. */
export const QUERY_PARAMETERS = ["orderBy", "equalTo", "startAt", "startAfter", "endAt", "endBefore", "limitToFirst", "limitToLast"] as const;

/** writeSizeLimit's values, with the time Firebase aims each write to finish in (REST reference, writeSizeLimit). */
export const WRITE_SIZE_LIMITS: Record<string, string> = { tiny: "1 s", small: "10 s", medium: "30 s", large: "60 s", unlimited: "no limit, up to 256 MB" };

/** The longest timeout Firebase takes: 15 minutes (REST reference, timeout). */
export const MAX_TIMEOUT_MS = 15 * 60 * 1000;

export interface RestParameters {
  /** timeout=…, in ms; reads here finish long before any timeout Firebase allows. */
  timeoutMs?: number;
  writeSizeLimit?: string;
  /** callback=…: the answer is JavaScript calling this function with the data (JSONP). */
  callback?: string;
  /** download=…: the answer is a file download of this name. */
  download?: string;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, min: 60_000 };

/** The parameters checked; a parameter the method does not take is a 400 (REST reference, "Error Conditions"). */
export function restParameters(params: URLSearchParams, method: string): RestParameters {
  for (const name of QUERY_PARAMETERS) {
    const count = params.getAll(name).length;
    if (count > 1) throw new ParameterError(`${name} is given ${count} times; a query takes each of orderBy, equalTo, startAt, startAfter, endAt, endBefore, limitToFirst and limitToLast at most once`);
  }
  // The methods each parameter's table in the REST reference lists
  for (const name of ["shallow", "format"]) {
    if (params.has(name) && method !== "GET") throw new ParameterError(`${name} is supported by GET only, not by a ${method}`);
  }
  const print = params.get("print");
  if (print !== null) {
    if (print !== "pretty" && print !== "silent") throw new ParameterError(`print=${print.slice(0, 40)} is not a print format: use print=pretty or print=silent`);
    if (print === "silent" && method === "DELETE") throw new ParameterError("print=silent is supported by GET, PUT, POST and PATCH, not by a DELETE (which answers null)");
  }
  const result: RestParameters = {};
  const timeout = params.get("timeout");
  if (timeout !== null) {
    const match = /^(\d+)(ms|s|min)$/.exec(timeout);
    const ms = match ? Number(match[1]) * UNITS[match[2]!]! : NaN;
    if (!(ms > 0 && ms <= MAX_TIMEOUT_MS)) {
      throw new ParameterError(`timeout=${timeout.slice(0, 40)} is not a timeout Firebase takes: give a positive number and a unit, ms, s or min (e.g. timeout=3s), at most 15min`);
    }
    result.timeoutMs = ms;
  }
  const writeSizeLimit = params.get("writeSizeLimit");
  if (writeSizeLimit !== null) {
    if (!Object.hasOwn(WRITE_SIZE_LIMITS, writeSizeLimit)) {
      throw new ParameterError(`writeSizeLimit=${writeSizeLimit.slice(0, 40)} is not a write size limit: use tiny, small, medium, large or unlimited`);
    }
    result.writeSizeLimit = writeSizeLimit;
  }
  const callback = params.get("callback");
  if (callback !== null) {
    if (method !== "GET") throw new ParameterError(`callback is supported by GET only, not by a ${method}: JSONP wraps what a GET reads`);
    if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(callback) || callback.length > 200) {
      throw new ParameterError(`callback=${callback.slice(0, 40)} is not a JavaScript function name (letters, digits, _ and $, dots between names)`);
    }
    result.callback = callback;
  }
  const download = params.get("download");
  if (download !== null) {
    if (method !== "GET") throw new ParameterError(`download is supported by GET only, not by a ${method}: it names the file a GET's data is saved as`);
    if (!download || download.length > 200 || /[\x00-\x1f\x7f"\\/]/.test(download)) {
      throw new ParameterError(`download=${download.slice(0, 40)} is not a file name: give a name without quotes, slashes or control characters, such as download=backup.json`);
    }
    result.download = download;
  }
  return result;
}
