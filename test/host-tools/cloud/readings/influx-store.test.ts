/**
 * The InfluxDB store's requests, checked against a recording fetch: the URL forms (1.x and 2.x write APIs, as
 * documented at https://docs.influxdata.com/influxdb/v2/api/write-data/ and
 * https://docs.influxdata.com/influxdb/v2/api/write-data-v1-compatible/), how each answer is taken, and that a
 * refused batch costs only its bad line. The real InfluxDB 1.x server is in network-stores.test.ts; no 2.x or 3.x
 * server is installable here, so the /api/v2/write path is checked only for the request it sends.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InfluxReadingsStore, parseInfluxUrl } from "../../../../host-tools/cloud/readings/influx-store.ts";
import { readingLine } from "../../../../host-tools/cloud/readings/line-protocol.ts";
import { ReadingRejected } from "../../../../host-tools/cloud/readings/reading-message.ts";
import { ReadingsStoreError } from "../../../../host-tools/cloud/readings/readings-store.ts";

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

/** Records the writes and answers them with `answer`; a query (the highest seq of a device) finds nothing. */
function recorder(answer: (request: Seen) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const fake = (async (url: string, init: RequestInit) => {
    const request = { url: String(url), method: init.method ?? "GET", headers: init.headers as Record<string, string>, body: init.body === undefined ? "" : String(init.body) };
    if (request.url.includes("/query?")) return Response.json({ results: [{ statement_id: 0 }] });
    seen.push(request);
    return answer(request);
  }) as unknown as typeof fetch;
  return { seen, fake };
}

const reading = { device: "desk-1", seq: 1, ts: 1_700_000_000_000, fields: { distance_cm: 12 } };

describe("InfluxDB store: URLs and answers", () => {
  it("writes through the 1.x API with Basic auth, and through the 2.x API with org, bucket and a token", async () => {
    const v1 = recorder(() => new Response(null, { status: 204 }));
    await new InfluxReadingsStore("influx://ada:s%3Dcret@db.example:8087/course", { fetch: v1.fake, env: {} }).insert(reading, 1_700_000_000_500);
    expect(v1.seen[0]!.url).toBe("http://db.example:8087/write?db=course&precision=ns");
    expect(v1.seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from("ada:s=cret").toString("base64")}`);
    expect(v1.seen[0]!.body).toBe("readings,device=desk-1 distance_cm=12,seq=1i,esplab_received_at=1700000000500i 1700000000000000001");

    const v2 = recorder(() => new Response(null, { status: 204 }));
    await new InfluxReadingsStore("influxs://cloud.example/sensors?org=course", { fetch: v2.fake, env: { INFLUX_TOKEN: "t0k" } }).insert(reading);
    expect(v2.seen.at(-1)!.url).toBe("https://cloud.example:8086/api/v2/write?org=course&bucket=sensors&precision=ns");
    expect(v2.seen.at(-1)!.headers.authorization).toBe("Token t0k");
  });

  it("names what is wrong with a URL, without showing its password", () => {
    expect(() => parseInfluxUrl("influx://host:8086/", {})).toThrow(/names no database: write influx:\/\/host:8086\/DATABASE/);
    expect(() => parseInfluxUrl("influx://", {})).toThrow(ReadingsStoreError);
    expect(parseInfluxUrl("influx://u:secret@h/db", {}).location).not.toMatch(/secret/);
  });

  it("takes each answer for what it means: 5xx and no answer wait, 401 and 404 need a fix, 400 refuses the reading", async () => {
    const answers: Record<string, Response | Error> = {};
    const store = (status: number | "down", body = "") =>
      new InfluxReadingsStore("influx://127.0.0.1:9/db", {
        env: {},
        fetch: recorder(() => {
          if (status === "down") throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
          return new Response(body, { status });
        }).fake,
      });
    const outcome = async (status: number | "down", body?: string) => store(status, body).insert({ ...reading, seq: undefined }).catch((error: Error) => error);
    answers.down = (await outcome("down")) as Error;
    answers.busy = (await outcome(503, '{"error":"engine busy"}')) as Error;
    answers.auth = (await outcome(401, '{"error":"authorization failed"}')) as Error;
    answers.missing = (await outcome(404, '{"code":"not found","message":"bucket \\"db\\" not found"}')) as Error;
    answers.refused = (await outcome(400, '{"error":"partial write: field type conflict"}')) as Error;
    expect(answers.down).toMatchObject({ transient: true, message: expect.stringMatching(/not reachable \(ECONNREFUSED\).*is the server running/) });
    expect(answers.busy).toMatchObject({ transient: true, message: expect.stringMatching(/engine busy/) });
    expect(answers.auth).toMatchObject({ transient: false, code: "store-auth", message: expect.stringMatching(/INFLUX_TOKEN/) });
    expect(answers.missing).toMatchObject({ transient: false, code: "store-missing", message: expect.stringMatching(/bucket "db" not found — create the database db first/) });
    expect(answers.refused).toBeInstanceOf(ReadingRejected);
    expect(answers.refused!.message).toMatch(/field type conflict/);
  });

  it("asks for the database again when the first CREATE DATABASE never reached a server that was shutting down", async () => {
    // A 1.x server going down answers writes "database not found", then refuses connections.
    let up = false;
    let created = false;
    const { seen, fake } = recorder((request) => {
      if (request.url.endsWith("/query")) {
        if (!up) throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
        created = true;
        return Response.json({ results: [{ statement_id: 0 }] });
      }
      return created ? new Response(null, { status: 204 }) : new Response('{"error":"database not found: \\"db\\""}', { status: 404 });
    });
    const store = new InfluxReadingsStore("influx://127.0.0.1:9/db", { fetch: fake, env: {} });
    await expect(store.insert(reading)).rejects.toMatchObject({ transient: true });
    up = true;
    expect(await store.insert(reading)).toBe("stored");
    expect(seen.filter((request) => request.url.endsWith("/query")).map((request) => request.body)).toEqual([`q=${encodeURIComponent('CREATE DATABASE "db"').replace(/%20/g, "+")}`, `q=${encodeURIComponent('CREATE DATABASE "db"').replace(/%20/g, "+")}`]);
  });

  it("sends readings that arrive together in one request, and when InfluxDB refuses it, refuses only the bad line", async () => {
    const { seen, fake } = recorder(({ body }) => new Response(body.includes("bad=") ? '{"error":"partial write: field type conflict"}' : null, { status: body.includes("bad=") ? 400 : 204 }));
    const store = new InfluxReadingsStore("influx://127.0.0.1:9/db", { fetch: fake, env: {} });
    const outcomes = await Promise.allSettled([1, 2, 3].map((i) => store.insert({ device: "d", seq: undefined, ts: undefined, fields: i === 2 ? { bad: "x" } : { good: i } })));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(seen[0]!.body.split("\n")).toHaveLength(3); // one request for all three first
    expect(seen.slice(1).map((s) => s.body.split("\n").length)).toEqual([1, 1, 1]);
  });

  it("writes any reading as one line, or refuses it with ReadingRejected", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", minLength: 1, maxLength: 30 }), fc.dictionary(fc.stringMatching(/^[A-Za-z_]\w{0,8}$/), fc.oneof(fc.string({ unit: "binary" }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null))), (device, fields) => {
        let line: string;
        try {
          line = readingLine({ device, seq: undefined, ts: undefined, fields }, 1_000, 0);
        } catch (error) {
          expect(error).toBeInstanceOf(ReadingRejected);
          return;
        }
        // A raw line break may only appear inside a quoted string field, so the line protocol stays one point.
        const outsideStrings = line.replace(/"(?:[^"\\]|\\.)*"/g, '""');
        expect(outsideStrings).not.toMatch(/[\r\n]/);
        expect(line.startsWith("readings,device=")).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
