import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ReadingsStore, ReadingsStoreError } from "../../../../../host-tools/cloud/readings/readings-store.ts";
import { loadRulesFile, RulesEngine, type RuleDefinition } from "../../../../../host-tools/cloud/iot/rules/rules-engine.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const message = (topic: string, payload: unknown, clientId = "Device001") => ({ topic, payload: Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload)), clientId, receivedAt: 1_796_000_000_000 });

function engine(rules: RuleDefinition[], extra: { openStore?: (db: string) => ReadingsStore | { insert(): never } } = {}) {
  const published: { topic: string; payload: string; qos: number }[] = [];
  const log: string[] = [];
  const rulesEngine = new RulesEngine({
    rules,
    publish: async (topic, payload, qos) => void published.push({ topic, payload: payload.toString(), qos }),
    openStore: extra.openStore ?? (() => Promise.reject(new Error("no store"))),
    log: (line) => log.push(line),
    retryDelaysMs: [1, 1, 1],
  });
  return { rulesEngine, published, log };
}

async function httpServer(status: number) {
  const bodies: { url: string; type: string; body: string }[] = [];
  const server = http.createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      bodies.push({ url: request.url!, type: String(request.headers["content-type"]), body });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, bodies };
}

// https://docs.aws.amazon.com/iot/latest/developerguide/republish-rule-action.html, https-rule-action.html, rule-error-handling.html
describe("the rules engine", () => {
  it("republishes with substitution templates, POSTs over HTTP, and writes readings to a store", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-rules-"));
    const store = new ReadingsStore(path.join(dir, "r.sqlite"));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }), () => store.close());
    const endpoint = await httpServer(200);
    const { rulesEngine, published } = engine(
      [
        { name: "too_close", sql: "SELECT distance_cm, topic(2) AS device FROM 'sensor/+' WHERE distance_cm < 10", actions: [{ republish: { topic: "alerts/${topic(2)}/close", qos: 1 } }, { http: { url: `${endpoint.url}/hook/\${clientid()}` } }] },
        { name: "store_all", sql: "SELECT * FROM 'sensor/+'", actions: [{ readings: { db: "lab.sqlite" } }] },
      ],
      { openStore: () => store },
    );
    rulesEngine.onPublish(message("sensor/Device001", { distance_cm: 5, seq: 1 }));
    rulesEngine.onPublish(message("sensor/Device001", { distance_cm: 50, seq: 2 }));
    rulesEngine.onPublish(message("sensor/Device001", { distance_cm: 50, seq: 2 }));
    rulesEngine.onPublish(message("status/Device001", "online"));
    await rulesEngine.idle();
    expect(published).toEqual([{ topic: "alerts/Device001/close", payload: '{"distance_cm":5,"device":"Device001"}', qos: 1 }]);
    expect(endpoint.bodies).toEqual([{ url: "/hook/Device001", type: "application/json", body: '{"distance_cm":5,"device":"Device001"}' }]);
    expect(store.readings().map((r) => [r.device, r.seq, r.fields.distance_cm])).toEqual([["Device001", 1, 5], ["Device001", 2, 50]]);
  });

  it("sends a failed action to the error action in AWS's shape, after retrying a store that is down", async () => {
    const endpoint = await httpServer(503);
    let attempts = 0;
    const { rulesEngine, published, log } = engine(
      [
        {
          name: "to_web",
          sql: "SELECT * FROM 'sensor/#'",
          actions: [{ http: { url: `${endpoint.url}/in` } }, { readings: { db: "postgres://down" } }],
          errorAction: { republish: { topic: "rules/errors" } },
        },
      ],
      { openStore: () => ({ insert: () => (attempts++, (() => { throw new ReadingsStoreError("store-down", "connection refused", { transient: true }); })()) }) },
    );
    rulesEngine.onPublish(message("sensor/Device002", { t: 1 }, "Device002"));
    await rulesEngine.idle();
    expect(attempts).toBe(4); // the first try and three retries
    const reports = published.filter((p) => p.topic === "rules/errors").map((p) => JSON.parse(p.payload));
    expect(reports).toHaveLength(2);
    expect(reports.map((r) => r.failures[0].failedAction).sort()).toEqual(["HttpAction", "ReadingsAction"]);
    const httpReport = reports.find((r) => r.failures[0].failedAction === "HttpAction");
    expect(httpReport).toMatchObject({ ruleName: "to_web", topic: "sensor/Device002", clientId: "Device002", base64OriginalPayload: Buffer.from('{"t":1}').toString("base64"), failures: [{ failedResource: `${endpoint.url}/in`, errorMessage: "it answered 503 Service Unavailable" }] });
    expect(log.join("\n")).toMatch(/to_web: ReadingsAction on postgres:\/\/down failed: connection refused/);
  });

  it("refuses a bad rule with its name, the position and a caret under it", () => {
    expect(() => engine([{ name: "bad", sql: "SELECT * FORM 'x'", actions: [{ republish: { topic: "y" } }] }])).toThrow(/rule 1 \(bad\): expected FROM at 1:10, found 'FORM'\n {2}SELECT \* FORM 'x'\n {2} {9}\^/);
    expect(() => engine([{ name: "bad name", sql: "SELECT * FROM 'x'", actions: [] }])).toThrow(/name must be 1–128 letters/);
    expect(() => engine([{ name: "none", sql: "SELECT * FROM 'x'", actions: [] }])).toThrow(/at least one action/);
    expect(() => engine([{ name: "odd", sql: "SELECT * FROM 'x'", actions: [{ email: {} } as never] }])).toThrow(/an action is one of/);
    expect(() => engine([{ name: "tpl", sql: "SELECT * FROM 'x'", actions: [{ republish: { topic: "a/${topic(" } }] }])).toThrow(/without a closing \}/);
    expect(() => engine([{ name: "q2", sql: "SELECT * FROM 'x'", actions: [{ republish: { topic: "a", qos: 2 as 1 } }] }])).toThrow(/no QoS 2/);
  });

  it("reads rules from YAML and JSON files and names what is wrong with one", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-rules-file-"));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, "rules.yaml"), "rules:\n  - name: all\n    sql: SELECT * FROM 'sensor/+'\n    actions:\n      - readings: { db: readings.sqlite }\n");
    expect(loadRulesFile(path.join(dir, "rules.yaml"))).toMatchObject([{ name: "all", actions: [{ readings: { db: "readings.sqlite" } }] }]);
    fs.writeFileSync(path.join(dir, "rules.json"), "{ oops");
    expect(() => loadRulesFile(path.join(dir, "rules.json"))).toThrow(/rules.json is not valid JSON/);
    expect(() => loadRulesFile(path.join(dir, "missing.yaml"))).toThrow(/cannot read the rules file/);
  });
});
