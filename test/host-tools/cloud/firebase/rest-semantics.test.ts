import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFirebaseEmulator, type FirebaseEmulator } from "../../../../host-tools/cloud/firebase/index.ts";
import { listen, restClient } from "./rest-client.ts";

/**
 * The REST API's edges as Firebase documents them. Each test names its source: a page of Firebase's documentation
 * or, where the documentation is silent, the file of an official SDK that shows the behaviour.
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
  // https://firebase.google.com/docs/database/rest/retrieve-data#section-rest-ordering: a query has one orderBy
  // (the SDKs refuse a second: packages/database/src/api/Reference_impl.ts validateNoPreviousOrderByCall).
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
  // https://firebase.google.com/docs/reference/rest/database#section-priorities: a location's priority is read and
  // written at <location>/.priority.json; format=export shows it beside the value.
  it("reads and writes a priority at /path/.priority.json, keeping the value", async () => {
    await put("/scores.json", { ann: 10, bob: { points: 3 } });
    expect((await put("/scores/ann/.priority.json", 2)).status).toBe(200);
    expect(await (await put("/scores/bob/.priority.json", 1)).json()).toBe(1);
    expect(await (await db("/scores/ann/.priority.json")).json()).toBe(2);
    expect(await (await db("/scores/ann.json")).json()).toBe(10);
    expect(await (await db("/scores.json?format=export")).json()).toEqual({ ann: { ".value": 10, ".priority": 2 }, bob: { points: 3, ".priority": 1 } });
    expect(Object.keys((await (await db('/scores.json?orderBy="$priority"&limitToFirst=1')).json()) as object)).toEqual(["bob"]);
    expect((await db("/scores/ann/.priority.json", { method: "DELETE" })).status).toBe(200);
    expect(await (await db("/scores/ann/.priority.json")).json()).toBeNull();
    expect(await (await db("/scores.json?format=export")).json()).toEqual({ ann: 10, bob: { points: 3, ".priority": 1 } });
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
    expect((await db("/p/.priority.json", { method: "PATCH", body: "{}" })).status).toBe(405);
  });

  // https://firebase.google.com/docs/database/rest/save-data: ".value" and ".priority" in a written value
  it("stores .value/.priority given in a PUT body", async () => {
    await put("/withp.json", { x: { ".value": "v", ".priority": 7 } });
    expect(await (await db("/withp/x.json")).json()).toBe("v");
    expect(await (await db("/withp/x/.priority.json")).json()).toBe(7);
  });
});

describe("conditional requests", () => {
  const etagOf = async (p: string) => (await db(p, { headers: { "X-Firebase-ETag": "true" } })).headers.get("etag")!;

  // https://firebase.google.com/docs/database/rest/save-data#section-conditional-requests: if-match on a write to
  // one location; a stale ETag gets 412 with the current value and ETag.
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

  // An ETag is one location's value; a PATCH writes several (REST reference, PATCH): refused, not silently ignored.
  it("refuses if-match on a PATCH rather than write without the check", async () => {
    await put("/multi.json", { a: 1 });
    const response = await db("/multi.json", { method: "PATCH", body: '{"b":2}', headers: { "if-match": await etagOf("/multi.json") } });
    expect(response.status).toBe(400);
    expect(await error(response)).toMatch(/^if-match is for PUT and DELETE at one location/);
    expect(await (await db("/multi.json")).json()).toEqual({ a: 1 });
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
  // root as the SDK's ValidationPath counts it (packages/database/src/core/util/Path.ts).
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
  // https://firebase.google.com/docs/reference/rest/database#section-param-timeout: a number and a unit (ms, s,
  // min), at most 15 min; otherwise 400.
  it.each(["3ms", "3s", "15min", "900000ms"])("takes timeout=%s", async (timeout) => {
    expect((await db(`/t.json?timeout=${timeout}`)).status).toBe(200);
  });
  it.each(["16min", "0s", "3", "3h", "-1s", "1.5s"])("refuses timeout=%s with a 400 naming the format", async (timeout) => {
    const response = await db(`/t.json?timeout=${encodeURIComponent(timeout)}`);
    expect(response.status).toBe(400);
    expect(await error(response)).toMatch(/give a positive number and a unit, ms, s or min \(e\.g\. timeout=3s\), at most 15min$/);
  });

  // https://firebase.google.com/docs/reference/rest/database#section-param-writesizelimit: tiny, small, medium,
  // large or unlimited.
  it("takes each writeSizeLimit Firebase names and refuses others", async () => {
    for (const limit of ["tiny", "small", "medium", "large", "unlimited"]) expect((await put(`/w.json?writeSizeLimit=${limit}`, limit)).status).toBe(200);
    const bad = await put("/w.json?writeSizeLimit=huge", 1);
    expect(bad.status).toBe(400);
    expect(await error(bad)).toBe("writeSizeLimit=huge is not a write size limit: use tiny, small, medium, large or unlimited");
    expect(await (await db("/w.json")).json()).toBe("unlimited");
  });

  // https://firebase.google.com/docs/database/rest/retrieve-data#section-rest-uri-params ("callback"): JSONP.
  it("wraps a GET in the callback's call for JSONP, and refuses a name that is not a function name", async () => {
    await put("/jsonp.json", { a: 1 });
    const response = await db("/jsonp.json?callback=app.got");
    expect(response.headers.get("content-type")).toMatch(/^application\/javascript/);
    expect(await response.text()).toBe('app.got({"a":1});');
    const bad = await db(`/jsonp.json?callback=${encodeURIComponent("alert(1)//")}`);
    expect(bad.status).toBe(400);
  });

  it("keeps JSONP to this computer's pages: a script loaded by another site is refused", async () => {
    const foreign = await db("/jsonp.json?callback=f", { headers: { "Sec-Fetch-Site": "cross-site", Referer: "https://evil.example/page" } });
    expect(foreign.status).toBe(403);
    expect(await error(foreign)).toMatch(/^a JSONP script for https:\/\/evil\.example is refused/);
    const local = await db("/jsonp.json?callback=f", { headers: { "Sec-Fetch-Site": "cross-site", Referer: "http://localhost:5173/" } });
    expect(await local.text()).toBe('f({"a":1});');
  });

  // https://firebase.google.com/docs/reference/rest/database#section-param-download: a file download of that name.
  it("answers download=<name> as an attachment of that name", async () => {
    await put("/export.json", { a: 1 });
    const response = await db("/export.json?download=backup.json");
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="backup.json"');
    expect(await response.json()).toEqual({ a: 1 });
    expect((await db(`/export.json?download=${encodeURIComponent('a"b')}`)).status).toBe(400);
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

  // https://firebase.google.com/docs/database/rest/retrieve-data#section-rest-streaming: "cancel: The data for this
  // event is null. This event will be sent if the Firebase Realtime Database Security Rules cause a read at the
  // requested location to no longer be allowed" — when the rules change, not at some later write.
  it("cancels the streams new rules deny at once, with null data, and leaves the others open", async () => {
    const ns = restClient(() => emulator, "cancelling");
    await ns("/.settings/rules.json", { method: "PUT", body: JSON.stringify({ rules: { a: { ".read": true }, b: { ".read": true } } }) });
    const denied = await listen(ns, "/a.json", "");
    const kept = await listen(ns, "/b.json", "");
    await expect.poll(() => denied.events.length + kept.events.length).toBe(2);
    await ns("/.settings/rules.json", { method: "PUT", body: JSON.stringify({ rules: { b: { ".read": true } } }) });
    await expect.poll(() => denied.events.at(-1)).toBe("cancel null");
    await expect.poll(() => denied.ended()).toBe(true);
    await ns("/b.json", { method: "PUT", body: "1" });
    await expect.poll(() => kept.events.at(-1)).toBe('put {"path":"/","data":1}');
    expect(kept.ended()).toBe(false);
    kept.close();
  });
});

describe("streamed queries", () => {
  // https://firebase.google.com/docs/database/rest/retrieve-data documents streaming a location and the query
  // parameters of a GET without excluding one from the other, so a streamed query keeps to its query: the first put
  // holds the window (as a GET with the same query answers), then a child entering, changing or leaving it is a put
  // at that child, which is what an SDK query listener sees (child_added, child_changed, child_removed).
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
