import { childrenOf, type JsonValue } from "../../../firmware/net/firebase/ordering.ts";
import { Query } from "../../../firmware/net/firebase/query.ts";
import { ParameterError, QUERY_PARAMETERS } from "./rest-params.ts";
import type { Rules } from "./rules.ts";

/** A query read from the URL: applies it to the value at the queried location. */
export type RestQuery = (value: JsonValue) => JsonValue;

/**
 * The ordered query a request's parameters describe (https://firebase.google.com/docs/database/rest/retrieve-data,
 * "Filtering data"), or undefined when it has none. Mistakes are ParameterErrors (400s) with Firebase's text where
 * Firebase has one. With `enforceIndexes`, ordering by a child or $value needs its .indexOn, as in production.
 */
export function restQuery(params: URLSearchParams, rules: Rules, path: string[], enforceIndexes: boolean): RestQuery | undefined {
  if (!params.has("orderBy")) {
    // Firebase filters only an ordered query, and refuses the rest rather than answer unfiltered data
    if (QUERY_PARAMETERS.some((name) => params.has(name))) throw new ParameterError("orderBy must be defined when other query parameters are defined");
    return undefined;
  }
  const parse = (name: string): { value: JsonValue; key?: string } | undefined => {
    const raw = params.get(name);
    if (raw === null) return undefined;
    try {
      const parsed = JSON.parse(`[${raw}]`) as JsonValue[];
      return { value: parsed[0] as JsonValue, key: parsed[1] === undefined ? undefined : String(parsed[1]) };
    } catch {
      throw new ParameterError(`${name} must be a JSON value (strings in double quotes), got ${raw}`);
    }
  };
  let orderBy: unknown;
  try {
    orderBy = JSON.parse(params.get("orderBy")!);
  } catch {
    throw new ParameterError('orderBy must be a JSON string: "$key", "$value", "$priority" or a child path');
  }
  if (typeof orderBy !== "string") throw new ParameterError("orderBy must be a JSON string");
  try {
    let q = new Query();
    if (orderBy === "$key") q = q.orderByKey();
    else if (orderBy === "$value") q = q.orderByValue();
    else if (orderBy === "$priority") q = q.orderByPriority();
    else q = q.orderByChild(orderBy);
    if (enforceIndexes && orderBy !== "$key" && orderBy !== "$priority") {
      const wanted = orderBy === "$value" ? ".value" : orderBy;
      if (!rules.indexOn(path).includes(wanted)) {
        throw new ParameterError(`Index not defined, add ".indexOn": "${wanted}", for path "/${path.join("/")}", to the rules`);
      }
    }
    const equal = parse("equalTo");
    const startAt = parse("startAt");
    const startAfter = parse("startAfter");
    const endAt = parse("endAt");
    const endBefore = parse("endBefore");
    if (equal) q = q.equalTo(equal.value, equal.key);
    if (startAt) q = q.startAt(startAt.value, startAt.key);
    if (startAfter) q = q.startAfter(startAfter.value, startAfter.key);
    if (endAt) q = q.endAt(endAt.value, endAt.key);
    if (endBefore) q = q.endBefore(endBefore.value, endBefore.key);
    const first = params.get("limitToFirst");
    const last = params.get("limitToLast");
    if (first !== null) q = q.limitToFirst(Number(first));
    if (last !== null) q = q.limitToLast(Number(last));
    const query = q;
    return (value) => {
      const entries = query.apply(childrenOf(value));
      return entries.length ? Object.fromEntries(entries) : null;
    };
  } catch (error) {
    if (error instanceof ParameterError) throw error;
    throw new ParameterError((error as Error).message);
  }
}
