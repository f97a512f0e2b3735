import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReadingsStore } from "../../../host-tools/cloud/readings/readings-store.ts";
import { DashboardServer } from "../../../host-tools/dashboard/server.ts";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) console.warn(`\n  NOTICE: ${CHROMIUM} is missing, so the dashboard's browser test is skipped (apt-get install chromium).\n`);
const OUTPUT = path.resolve(import.meta.dirname, "../../../test-results");

let dir: string;
let store: ReadingsStore;
let server: DashboardServer;
let url: string;
const start = Date.now() - 60_000;

function get(pathname: string, host?: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(pathname, url);
    http
      .get({ host: target.hostname, port: target.port, path: target.pathname + target.search, headers: host ? { host } : {} }, (response) => {
        let body = "";
        response.on("data", (chunk) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode!, type: String(response.headers["content-type"]), body }));
      })
      .on("error", reject);
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-dashboard-"));
  store = new ReadingsStore(path.join(dir, "readings.sqlite"));
  for (let seq = 1; seq <= 30; seq++) {
    for (const [device, base] of [["Device001", 40], ["Device002", 70]] as const) {
      store.insert({ device, seq, ts: start + seq * 2000, fields: { distance_cm: base + 10 * Math.sin(seq / 4), obstacle: seq % 7 === 0, uptime_ms: seq * 2000 } }, start + seq * 2000);
    }
  }
  server = new DashboardServer({ source: { readings: (query) => store.readings(query), describe: () => "SQLite readings.sqlite" }, pollMs: 100 });
  url = await server.listen(0);
});
afterAll(async () => {
  await server?.close();
  store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the dashboard's API", () => {
  it("answers readings as JSON and CSV for a time range and devices; refuses a bad time and a foreign host name", async () => {
    const all = JSON.parse((await get("/api/readings")).body);
    expect(all.devices).toEqual(["Device001", "Device002"]);
    expect(all.readings).toHaveLength(60);
    const recent = JSON.parse((await get(`/api/readings?since=${start + 50_000}`)).body);
    expect(recent.readings.map((r: { seq: number }) => r.seq).sort((a: number, b: number) => a - b)).toEqual([25, 25, 26, 26, 27, 27, 28, 28, 29, 29, 30, 30]);
    const csv = await get(`/api/readings.csv?device=Device002&until=${new Date(start + 4000).toISOString()}`);
    expect(csv.type).toMatch(/^text\/csv/);
    expect(csv.body.split("\r\n").filter(Boolean)).toHaveLength(3); // header and seq 1, 2
    expect(csv.body).not.toMatch(/Device001/);
    expect(await get("/api/readings?since=yesterday")).toMatchObject({ status: 400, body: expect.stringMatching(/since=yesterday is not a time/) });
    expect((await get("/api/readings", "evil.example:80")).status).toBe(421);
  });
});

describe.skipIf(!haveChromium)("the dashboard in a real browser", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it("charts each field with its unit and a line per device, adds readings as they are stored, filters devices", async () => {
    const page = await browser.newPage({ viewport: { width: 1300, height: 820 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
    await page.goto(url);
    await expect.poll(() => page.locator("#status").textContent(), { timeout: 10_000 }).toBe("live");
    await expect.poll(() => page.locator("#summary").getAttribute("data-count"), { timeout: 10_000 }).toBe("60");
    expect(await page.locator(".chart h2").allTextContents()).toEqual(["distance_cm (cm)", "obstacle", "uptime_ms (ms)"]);
    expect(await page.locator('.chart[data-field="distance_cm"] polyline').evaluateAll((lines) => lines.map((l) => [l.getAttribute("data-device"), l.getAttribute("data-points")]))).toEqual([
      ["Device001", "30"],
      ["Device002", "30"],
    ]);

    // live: a reading stored now appears without a reload
    store.insert({ device: "Device003", seq: 1, ts: Date.now(), fields: { distance_cm: 12.5 } }, Date.now());
    await expect.poll(() => page.locator("#summary").getAttribute("data-count"), { timeout: 10_000 }).toBe("61");
    await expect.poll(() => page.locator("#devices input").count()).toBe(3);
    fs.mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT, "dashboard.png"), fullPage: true });

    await page.locator('#devices input[data-device="Device001"]').uncheck();
    await expect.poll(() => page.locator('.chart[data-field="distance_cm"] polyline').count()).toBe(2);
    const csvLink = await page.locator("#csv").getAttribute("href");
    const csv = (await get(csvLink!)).body;
    expect(csv).not.toMatch(/Device001/);
    expect(csv).toMatch(/Device002/);
    expect(csv).toMatch(/Device003/);
    expect(errors).toEqual([]);
  }, 60_000);
});
