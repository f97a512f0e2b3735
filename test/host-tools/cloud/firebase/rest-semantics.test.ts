import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFirebaseEmulator, type FirebaseEmulator } from "../../../../host-tools/cloud/firebase/index.ts";
import { listen, restClient } from "./rest-client.ts";

/**
 * The REST API's edges as Firebase documents them. Each test names its source: a page of Firebase's documentation
 * (most often the REST reference, https://firebase.google.com/docs/reference/rest/database, by section) or, where the
 * documentation is silent, the file of an official SDK that shows the behaviour.
 */

let emulator: FirebaseEmulator;
const db = restClient(() => emulator, "rest");
const error = async (response: Response) => ((await response.json()) as { error: string }).error;
const put = (p: string, value: unknown, init: RequestInit = {}) => db(p, { ...init, method: "PUT", body: JSON.stringify(value) });

beforeAll(async () => {
  emulator = await startFirebaseEmulator({ databasePort: 0, authPort: 0 });
});
afterAll(() => emulator.close());

describe("queries", () => {
  // https://firebase.google.com/docs/database/rest/retrieve-data#section-rest-ordered-data: a query has one orderBy;
  // the docs name no text for a second, and the JS SDK refuses one (packages/database/src/api/Reference_impl.ts,
  // validateNoPreviousOrderByCall), so the emulator does too, with a 400.
  it("refuses orderBy or a filter given twice instead of using one of them", async () => {
    await put("/twice.json", { a: 1, b: 2 });
    const orderTwice = await db('/twice.json?orderBy="$key"&orderBy="$value"');
    expect(orderTwice.status).toBe(400);
    expect(await error(orderTwice)).toMatch(/^orderBy is given 2 times; a query takes each of orderBy, equalTo/);
    const limitTwice = await db('/twice.json?orderBy="$key"&limitToFirst=1&limitToFirst=2');
    expect(limitTwice.status).toBe(400);
    expect(await error(limitTwice)).toMatch(/^limitToFirst is given 2 times/);
    expect(await (await db('/twice.json?orderBy="$key"&limitToFirst=1')).json()).toEqual({ a: 1 });
  });
});

describe("priorities", () => {
  // REST reference, "Priorities": a location's priority is the "virtual child" .priority, read with GET and written
  // with PUT; format=export ("format") shows it beside the value.
  it("reads and writes a priority at /path/.priority.json, keeping the value", async () => {
    await put("/scores.json", { ann: 10, bob: { points: 3 } });
    expect((await put("/scores/ann/.priority.json", 2)).status).toBe(200);
    expect(await (await put("/scores/bob/.priority.json", 1)).json()).toBe(1);
    expect(await (await db("/scores/ann/.priority.json")).json()).toBe(2);
    expect(await (await db("/scores/ann.json")).json()).toBe(10);
    expect(await (await db("/scores.json?format=export")).json()).toEqual({ ann: { ".value": 10, ".priority": 2 }, bob: { points: 3, ".priority": 1 } });
    expect(Object.keys((await (await db('/scores.json?orderBy="$priority"&limitToFirst=1')).json()) as object)).toEqual(["bob"]);
    expect((await put("/scores/ann/.priority.json", null)).status).toBe(200);
    expect(await (await db("/scores/ann/.priority.json")).json()).toBeNull();
    expect(await (await db("/scores.json?format=export")).json()).toEqual({ ann: 10, bob: { points: 3, ".priority": 1 } });
  });

  // REST reference, "Server Values": "You can also write priorities using server values, using the virtual child path".
  it("writes a server value as a priority", async () => {
    await put("/stamped.json", "x");
    const written = await put("/stamped/.priority.json", { ".sv": "timestamp" });
    expect(typeof (await written.json())).toBe("number");
    expect(typeof (await (await db("/stamped/.priority.json")).json())).toBe("number");
  });

  it("reads and writes the root's priority at /.priority.json; a location with no data has none", async () => {
    expect(await (await db("/.priority.json")).json()).toBeNull();
    expect((await put("/.priority.json", "top")).status).toBe(200);
    expect(await (await db("/.priority.json")).json()).toBe("top");
    expect((await put("/.priority.json", null)).status).toBe(200);
    expect(await (await db("/.priority.json")).json()).toBeNull();
    expect(await (await put("/nothing/here/.priority.json", 5)).json()).toBeNull();
    expect(await (await db("/nothing.json")).json()).toBeNull();
  });

  // The SDK's validatePriority (packages/database/src/core/util/validation.ts): a string, a finite number or null.
  it("refuses a priority that is not a string, a number or null", async () => {
    await put("/p.json", 1);
    const bad = await put("/p/.priority.json", { a: 1 });
    expect(bad.status).toBe(400);
    expect(await error(bad)).toMatch(/^Invalid data; a priority is a string, a number or null/);
    for (const method of ["PATCH", "POST", "DELETE"]) {
      const other = await db("/p/.priority.json", { method, body: method === "DELETE" ? undefined : "{}" });
      expect(other.status).toBe(400);
      expect(await error(other)).toBe(`a priority is written with a PUT, not a ${method}: PUT a string, a number, or null to remove it`);
    }
  });

  // REST reference, "Priorities": ".priority" and ".value" children in a written value, at any depth
  it("stores .value/.priority given in a PUT body", async () => {
    await put("/withp.json", { x: { ".value": "v", ".priority": 7 } });
    expect(await (await db("/withp/x.json")).json()).toBe("v");
    expect(await (await db("/withp/x/.priority.json")).json()).toBe(7);
  });
});

describe("conditional requests", () => {
  const etagOf = async (p: string) => (await db(p, { headers: { "X-Firebase-ETag": "true" } })).headers.get("etag")!;

  // REST reference, "Conditional Requests" (Expected responses): if-match on a PUT or a DELETE; a stale ETag gets
  // 412 with the database's ETag, and the body is the current value, which the Admin SDK's set_if_unchanged reads
  // (firebase-admin-python, firebase_admin/db.py).
  it("honours if-match on PUT and DELETE, answering 412 with the current value when it is stale", async () => {
    await put("/votes.json", 10);
    const etag = await etagOf("/votes.json");
    expect((await put("/votes.json", 11, { headers: { "if-match": etag } })).status).toBe(200);
    const stale = await put("/votes.json", 12, { headers: { "if-match": etag } });
    expect(stale.status).toBe(412);
    expect(await stale.json()).toBe(11);
    expect(stale.headers.get("etag")).toBe(await etagOf("/votes.json"));
    expect((await db("/votes.json", { method: "DELETE", headers: { "if-match": etag } })).status).toBe(412);
    expect((await db("/votes.json", { method: "DELETE", headers: { "if-match": await etagOf("/votes.json") } })).status).toBe(200);
  });

  // REST reference, "Conditional Requests": if-match on a GET is 400 "...not supported..", and a POST or a PATCH
  // with it gets no ETag either way; the ETag "can be anything other than PATCH".
  it.each(["GET", "POST", "PATCH"])("refuses if-match on a %s with a 400, writing nothing", async (method) => {
    await put("/multi.json", { a: 1 });
    const etag = await etagOf("/multi.json");
    const response = await db("/multi.json", { method, body: method === "GET" ? undefined : '{"b":2}', headers: { "if-match": etag } });
    expect(response.status).toBe(400);
    expect(await error(response)).toBe(`if-match is not supported on a ${method}: it conditions a PUT or a DELETE of one location`);
    expect(await (await db("/multi.json")).json()).toEqual({ a: 1 });
  });

  it("refuses X-Firebase-ETag on a PATCH and gives it on a POST", async () => {
    const patch = await db("/multi.json", { method: "PATCH", body: '{"b":2}', headers: { "X-Firebase-ETag": "true" } });
    expect(patch.status).toBe(400);
    expect(await error(patch)).toMatch(/^X-Firebase-ETag is not supported on a PATCH/);
    const post = await db("/multi.json", { method: "POST", body: '"c"', headers: { "X-Firebase-ETag": "true" } });
    expect(post.status).toBe(200);
    expect(post.headers.get("etag")).toBeTruthy();
  });

  // The Admin SDK's Reference.get_if_changed (firebase-admin-python, firebase_admin/db.py): GET with if-none-match
  // answers 304 while the ETag still matches.
  it("answers a GET with a matching if-none-match 304, and with the data once it changed", async () => {
    await put("/cached.json", { v: 1 });
    const etag = await etagOf("/cached.json");
    expect((await db("/cached.json", { headers: { "if-none-match": etag } })).status).toBe(304);
    await put("/cached.json", { v: 2 });
    const changed = await db("/cached.json", { headers: { "if-none-match": etag } });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toEqual({ v: 2 });
  });
});

describe("limits", () => {
  const deepPath = (levels: number) => Array.from({ length: levels }, (_, i) => `k${i}`).join("/");

  // https://firebase.google.com/docs/database/usage/limits ("Maximum depth of child nodes: 32"), counted from the
  // root as the SDK's ValidationPath counts it (packages/database/src/core/util/Path.ts, MAX_PATH_DEPTH).
  it("counts depth from the root: a value may reach 32 levels, not one more, wherever it is written", async () => {
    const refused = await put(`/${deepPath(31)}.json`, { a: { b: 1 } });
    expect(refused.status).toBe(400);
    expect(await error(refused)).toMatch(/^Invalid data; path specified exceeds the maximum depth that can be written \(32\): .* nests 2 levels, and 1 fit below a location 31 deep/);
    expect((await put(`/${deepPath(30)}.json`, { a: { b: 1 } })).status).toBe(200);
    expect(await (await db(`/${deepPath(30)}/a/b.json`)).json()).toBe(1);
  });

  it("refuses a too-deep child in a PATCH and a POST the same way, and stores what fits readably by path", async () => {
    const patch = await db(`/${deepPath(31)}.json`, { method: "PATCH", body: JSON.stringify({ "x/y": 1 }) });
    expect(patch.status).toBe(400);
    const post = await db(`/${deepPath(31)}.json`, { method: "POST", body: JSON.stringify({ a: 1 }) });
    expect(post.status).toBe(400);
    expect((await put(`/${deepPath(31)}.json`, { last: true })).status).toBe(200);
    expect(await (await db(`/${deepPath(31)}/last.json`)).json()).toBe(true);
  });

  // REST reference, "Error Conditions": 400 when "the REST API call path is too long"; the SDK's bound is 768 bytes
  // for the whole path, the written value's keys included (packages/database/src/core/util/Path.ts).
  it("refuses a path, or a key path inside a written value, longer than 768 bytes", async () => {
    const long = `/${"k".repeat(500)}/${"é".repeat(150)}`; // 1 + 500 + 1 + 300 bytes
    const byPath = await put(`${long}.json`, 1);
    expect(byPath.status).toBe(400);
    expect(await error(byPath)).toMatch(/^Invalid path: it is 802 bytes long \(UTF-8\); Firebase's paths are at most 768/);
    const byValue = await put(`/${"k".repeat(500)}.json`, { ["v".repeat(266)]: 1, ["w".repeat(267)]: 2 });
    expect(byValue.status).toBe(400);
    expect(await error(byValue)).toMatch(/is 769 bytes long/);
    expect((await put(`/${"k".repeat(500)}.json`, { ["v".repeat(266)]: 1 })).status).toBe(200);
  });

  // Firebase's numbers are doubles: every SDK reads an answer with JSON.parse (packages/util/src/json.ts jsonEval,
  // used by packages/database/src/core/ReadonlyRestClient.ts), so 2^53 + 1 cannot come back as itself from Firebase
  // either; the emulator stores the double the literal rounds to.
  it("stores an integer above 2^53 as the double it rounds to", async () => {
    const written = await db("/big.json", { method: "PUT", body: "9007199254740993" });
    expect(await written.text()).toBe("9007199254740992");
    expect(await (await db("/big.json")).text()).toBe("9007199254740992");
  });
});

describe("request parameters", () => {
  // REST reference, "timeout": "3ms, 3s, or 3min, with a number and a unit"; not positive or over 15min, a 400.
  it.each(["3ms", "3s", "15min", "900000ms"])("takes timeout=%s", async (timeout) => {
    expect((await db(`/t.json?timeout=${timeout}`)).status).toBe(200);
  });
  it.each(["16min", "0s", "3", "3h", "-1s", "1.5s"])("refuses timeout=%s with a 400 naming the format", async (timeout) => {
    const response = await db(`/t.json?timeout=${encodeURIComponent(timeout)}`);
    expect(response.status).toBe(400);
    expect(await error(response)).toMatch(/give a positive number and a unit, ms, s or min \(e\.g\. timeout=3s\), at most 15min$/);
  });

  // REST reference, "writeSizeLimit": tiny, small, medium, large or unlimited. Writes here never take a second, so
  // none is ever too big for its limit (Firebase's WRITE_TOO_BIG).
  it("takes each writeSizeLimit Firebase names and refuses others", async () => {
    for (const limit of ["tiny", "small", "medium", "large", "unlimited"]) expect((await put(`/w.json?writeSizeLimit=${limit}`, limit)).status).toBe(200);
    const bad = await put("/w.json?writeSizeLimit=huge", 1);
    expect(bad.status).toBe(400);
    expect(await error(bad)).toBe("writeSizeLimit=huge is not a write size limit: use tiny, small, medium, large or unlimited");
    expect(await (await db("/w.json")).json()).toBe("unlimited");
  });

  // REST reference, "shallow", "format" and "print": the methods each one's table lists; any other use is a 400
  // ("Error Conditions": "The request does not support one of the query parameters that is specified").
  it.each([
    ["PUT", "shallow=true", "shallow is supported by GET only, not by a PUT"],
    ["PATCH", "format=export", "format is supported by GET only, not by a PATCH"],
    ["DELETE", "print=silent", "print=silent is supported by GET, PUT, POST and PATCH, not by a DELETE (which answers null)"],
    ["GET", "print=loud", "print=loud is not a print format: use print=pretty or print=silent"],
  ])("refuses a %s with %s", async (method, query, text) => {
    const response = await db(`/params.json?${query}`, { method, body: method === "GET" || method === "DELETE" ? undefined : "{}" });
    expect(response.status).toBe(400);
    expect(await error(response)).toBe(text);
  });

  it("takes print=pretty on every method and print=silent on the writes it lists", async () => {
    expect(await (await put("/params.json?print=pretty", { a: 1 })).text()).toBe('{\n  "a": 1\n}');
    expect((await db("/params.json?print=silent", { method: "PATCH", body: '{"b":2}' })).status).toBe(204);
    expect(await (await db("/params.json?print=pretty", { method: "DELETE" })).text()).toBe("null");
  });

  // REST reference, "callback": "Supported by GET only", JSONP; a parameter the request does not support is a 400
  // ("Error Conditions").
  it("wraps a GET in the callback's call for JSONP, and refuses a name that is not a function name or a write", async () => {
    await put("/jsonp.json", { a: 1 });
    const response = await db("/jsonp.json?callback=app.got");
    expect(response.headers.get("content-type")).toMatch(/^application\/javascript/);
    expect(await response.text()).toBe('app.got({"a":1});');
    const bad = await db(`/jsonp.json?callback=${encodeURIComponent("alert(1)//")}`);
    expect(bad.status).toBe(400);
    const write = await put("/jsonp.json?callback=f", 2);
    expect(write.status).toBe(400);
    expect(await error(write)).toMatch(/^callback is supported by GET only, not by a PUT/);
  });

  it("keeps JSONP to this computer's pages: a script loaded by another site is refused", async () => {
    const foreign = await db("/jsonp.json?callback=f", { headers: { "Sec-Fetch-Site": "cross-site", Referer: "https://evil.example/page" } });
    expect(foreign.status).toBe(403);
    expect(await error(foreign)).toMatch(/^a JSONP script for https:\/\/evil\.example is refused/);
    const local = await db("/jsonp.json?callback=f", { headers: { "Sec-Fetch-Site": "cross-site", Referer: "http://localhost:5173/" } });
    expect(await local.text()).toBe('f({"a":1});');
  });

  // REST reference, "download": "Supported by GET only"; headers that make a browser save the data to a file.
  it("answers download=<name> as an attachment of that name", async () => {
    await put("/export.json", { a: 1 });
    const response = await db("/export.json?download=backup.json");
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="backup.json"');
    expect(await response.json()).toEqual({ a: 1 });
    expect((await db(`/export.json?download=${encodeURIComponent('a"b')}`)).status).toBe(400);
    expect((await db("/export.json?download=x.json", { method: "DELETE" })).status).toBe(400);
  });
});

describe("rules", () => {
  // Firebase's rules examples carry comments inside the rules (https://firebase.google.com/docs/rules/basics).
  it("takes rules with // and /* */ comments, leaving // inside rule strings alone", async () => {
    const ns = restClient(() => emulator, "commented");
    const source = `{
      // who may read what
      "rules": {
        /* notes are public,
           but only URLs are written */
        "notes": { ".read": true, ".write": true, "$id": { ".validate": "newData.val().beginsWith('http://')" } }
      }
    }`;
    const response = await ns("/.settings/rules.json", { method: "PUT", body: source });
    expect(response.status).toBe(200);
    expect((await ns("/notes/a.json", { method: "PUT", body: '"http://x"', auth: "" })).status).toBe(200);
    expect((await ns("/notes/b.json", { method: "PUT", body: '"ftp://x"', auth: "" })).status).toBe(401);
    const unclosed = await ns("/.settings/rules.json", { method: "PUT", body: '{"rules": {} /* no end' });
    expect(unclosed.status).toBe(400);
    expect(await error(unclosed)).toMatch(/never closed/);
  });

  // REST reference, "Streaming from the REST API", cancel: sent when "the Firebase Realtime Database Security Rules no
  // longer allow a read at the requested location", data "Permission denied.", and the connection ends — here when
  // the rules change, not at some later write.
  it("cancels the streams new rules deny at once, with Firebase's text, and leaves the others open", async () => {
    const ns = restClient(() => emulator, "cancelling");
    await ns("/.settings/rules.json", { method: "PUT", body: JSON.stringify({ rules: { a: { ".read": true }, b: { ".read": true } } }) });
    const denied = await listen(ns, "/a.json", "");
    const kept = await listen(ns, "/b.json", "");
    await expect.poll(() => denied.events.length + kept.events.length).toBe(2);
    await ns("/.settings/rules.json", { method: "PUT", body: JSON.stringify({ rules: { b: { ".read": true } } }) });
    await expect.poll(() => denied.events.at(-1)).toBe('cancel "Permission denied."');
    await expect.poll(() => denied.ended()).toBe(true);
    await ns("/b.json", { method: "PUT", body: "1" });
    await expect.poll(() => kept.events.at(-1)).toBe('put {"path":"/","data":1}');
    expect(kept.ended()).toBe(false);
    kept.close();
  });
});

describe("streamed queries", () => {
  // The REST reference ("Streaming from the REST API", "Query Parameters") documents streaming and a GET's query
  // parameters without excluding one from the other, and names no error for the pair; so a streamed query keeps to
  // its query: the first put holds the window (as a GET with the same query answers), then a child entering,
  // changing or leaving it is a put at that child, what an SDK query listener sees (child_added/changed/removed).
  it("streams the query's window: children entering and leaving it, nothing for changes outside it", async () => {
    await put("/board.json", { b: { s: 2 }, c: { s: 3 }, d: { s: 4 } });
    const stream = await listen(db, '/board.json?orderBy="$key"&limitToFirst=2');
    await expect.poll(() => stream.events).toEqual(['put {"path":"/","data":{"b":{"s":2},"c":{"s":3}}}']);
    await put("/board/a.json", { s: 1 });
    await expect.poll(() => stream.events.length).toBe(3);
    expect(stream.events.slice(1).sort()).toEqual(['put {"path":"/a","data":{"s":1}}', 'put {"path":"/c","data":null}']);
    await put("/board/d/s.json", 40);
    await db("/board.json", { method: "PATCH", body: JSON.stringify({ "b/s": 20 }) });
    await expect.poll(() => stream.events.length).toBe(4);
    expect(stream.events[3]).toBe('put {"path":"/b","data":{"s":20}}');
    await db("/board/a.json", { method: "DELETE" });
    await expect.poll(() => stream.events.length).toBe(6);
    expect(stream.events.slice(4).sort()).toEqual(['put {"path":"/a","data":null}', 'put {"path":"/c","data":{"s":3}}']);
    stream.close();
  });

  it("refuses a streamed query the same way as a GET", async () => {
    const response = await db("/board.json?limitToFirst=1", { headers: { Accept: "text/event-stream" } });
    expect(response.status).toBe(400);
    expect(await error(response)).toBe("orderBy must be defined when other query parameters are defined");
  });
});
