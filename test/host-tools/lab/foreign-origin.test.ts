/**
 * A page on another site, in a real browser, tries to read and drive the lab and to read and write the local
 * database; a DNS-rebound name tries the same from "inside". Chromium resolves evil.example to 127.0.0.1, so the
 * attacks reach the real servers exactly as a website the student visits would.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFirebaseEmulator, type FirebaseEmulator } from "../../../host-tools/cloud/firebase/index.ts";
import { partControls } from "../../../host-tools/lab/controls.ts";
import { LabServer } from "../../../host-tools/lab/server.ts";
import { VirtualDevice } from "../../../host-tools/runtime/virtual-device.ts";

/** What the browser code below uses of the page (this file is type-checked without the DOM library). */
type Element = { getAttribute(name: string): string | null };
type Doc = { querySelector(selector: string): Element | null; createElement(tag: "iframe"): Frame; body: { append(frame: Frame): void } };
type Frame = { src: string; onload: (() => void) | null; contentDocument: Doc | null };
type PageGlobals = { document: Doc; open(url: string): { document: Doc; close(): void } | null };

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) console.warn(`\n  NOTICE: ${CHROMIUM} is missing, so the foreign-origin browser test is skipped (apt-get install chromium).\n`);

describe.skipIf(!haveChromium)("a foreign page in a real browser", () => {
  let device: VirtualDevice;
  let lab: LabServer;
  let labPort: number;
  let firebase: FirebaseEmulator;
  let foreign: http.Server;
  let foreignPort: number;
  let browser: Browser;
  const pressed: string[] = [];

  beforeAll(async () => {
    firebase = await startFirebaseEmulator({ databasePort: 0, authPort: 0 });
    device = new VirtualDevice({ config: { app: "board-check" }, engine: "node" });
    await device.start();
    const controls = partControls(() => device, () => device.restart());
    lab = new LabServer({ device: () => device, controls: { ...controls, key: (key, action) => (pressed.push(key), controls.key(key, action)) } });
    labPort = Number(new URL(await lab.listen(0)).port);
    foreign = http.createServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/html" });
      response.end("<!doctype html><title>a website</title><p>nothing to see</p>");
    });
    await new Promise<void>((resolve) => foreign.listen(0, "127.0.0.1", resolve));
    foreignPort = (foreign.address() as AddressInfo).port;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--host-resolver-rules=MAP evil.example 127.0.0.1"],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await lab?.close();
    await device?.stop();
    await firebase?.close();
    await new Promise((resolve) => foreign?.close(resolve));
  });

  it("cannot read the lab's state or stream, press a key, or read or write the local database", async () => {
    const page = await browser.newPage();
    await page.goto(`http://evil.example:${foreignPort}/`);
    const labUrl = `http://127.0.0.1:${labPort}`;
    const dbUrl = firebase.databaseUrl;
    const outcome = await page.evaluate(
      async ({ labUrl, dbUrl }) => {
        const attempt = (request: Promise<{ status: number; type: string }>) => request.then((r) => `answered ${r.type} ${r.status}`, () => "blocked");
        const events = await new Promise<string>((resolve) => {
          const source = new EventSource(`${labUrl}/api/events`);
          source.onopen = () => (source.close(), resolve("open"));
          source.onerror = () => (source.close(), resolve("blocked"));
        });
        return {
          state: await attempt(fetch(`${labUrl}/api/state`)),
          events,
          // a "simple" request: no preflight, the browser sends it and only hides the answer
          pressText: await attempt(fetch(`${labUrl}/api/keypad`, { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: '{"key":"1"}' })),
          pressJson: await attempt(fetch(`${labUrl}/api/keypad`, { method: "POST", headers: { "content-type": "application/json", "x-esplab-token": "guess" }, body: '{"key":"2"}' })),
          dbRead: await attempt(fetch(`${dbUrl}/.json?ns=demo`)),
          dbWrite: await attempt(fetch(`${dbUrl}/stolen.json?ns=demo`, { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: '"x"' })),
        };
      },
      { labUrl, dbUrl },
    );
    expect(outcome).toEqual({ state: "blocked", events: "blocked", pressText: "answered opaque 0", pressJson: "blocked", dbRead: "blocked", dbWrite: "answered opaque 0" });
    expect(pressed).toEqual([]); // the no-cors POST reached the lab, which refused it
    expect(firebase.database.store("demo").root).toBeNull(); // and the database refused the write
    await page.close();
  }, 30_000);

  it("cannot obtain the lab's per-run token: not by fetching the page, framing it or opening it, and cannot drive the lab without it", async () => {
    const page = await browser.newPage();
    await page.goto(`http://evil.example:${foreignPort}/`);
    const labUrl = `http://127.0.0.1:${labPort}`;
    const outcome = await page.evaluate(async (labUrl) => {
      const { document } = globalThis as unknown as PageGlobals;
      const attempt = (request: Promise<Response>) => request.then(async (r) => `answered ${r.type} ${r.status} ${JSON.stringify((await r.text()).slice(0, 40))}`, () => "blocked");
      const framed = await new Promise<string>((resolve) => {
        const frame = document.createElement("iframe");
        frame.src = `${labUrl}/`;
        frame.onload = () => {
          try {
            resolve(`read ${frame.contentDocument?.querySelector("meta[name=esplab-token]")?.getAttribute("content") ?? "nothing"}`);
          } catch {
            resolve("blocked");
          }
        };
        document.body.append(frame);
      });
      const opened = (globalThis as unknown as PageGlobals).open(`${labUrl}/`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      let openedRead: string;
      try {
        openedRead = `read ${opened?.document.querySelector("meta[name=esplab-token]")?.getAttribute("content") ?? "nothing"}`;
      } catch {
        openedRead = "blocked";
      }
      opened?.close();
      return {
        page: await attempt(fetch(`${labUrl}/`)),
        pageNoCors: await attempt(fetch(`${labUrl}/`, { mode: "no-cors" })),
        framed,
        openedRead,
        // no-cors drops the token header and the JSON type; with cors, the preflight is never granted
        pressNoCors: await attempt(fetch(`${labUrl}/api/reset`, { method: "POST", mode: "no-cors", headers: { "x-esplab-token": "guess" }, body: "{}" })),
        pressCors: await attempt(fetch(`${labUrl}/api/keypad`, { method: "POST", headers: { "content-type": "application/json", "x-esplab-token": "guess" }, body: '{"key":"6"}' })),
      };
    }, labUrl);
    expect(outcome).toEqual({
      page: "blocked",
      pageNoCors: 'answered opaque 0 ""',
      framed: "read nothing", // the frame is refused (frame-ancestors), and would be cross-origin anyway
      openedRead: "blocked",
      pressNoCors: 'answered opaque 0 ""',
      pressCors: "blocked",
    });
    expect(pressed).toEqual([]);
    await page.close();
  }, 30_000);

  it("gets nothing through a DNS-rebound name, which makes the lab look same-origin", async () => {
    const page = await browser.newPage();
    const answer = await page.goto(`http://evil.example:${labPort}/`);
    expect(answer?.status()).toBe(421);
    expect(await answer?.text()).toMatch(/this lab answers only at http:\/\/127\.0\.0\.1:\d+\//);
    const state = await page.evaluate(() => fetch("/api/state").then((r) => r.status));
    expect(state).toBe(421);
    const press = await page.evaluate(() => fetch("/api/keypad", { method: "POST", headers: { "content-type": "application/json" }, body: '{"key":"3"}' }).then((r) => r.status));
    expect(press).toBe(421);
    expect(pressed).toEqual([]);
    await page.close();
  }, 30_000);

  it("still lets the lab's own page work", async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${labPort}/`);
    const statuses = await page.evaluate(async () => {
      const token = (globalThis as unknown as PageGlobals).document.querySelector('meta[name="esplab-token"]')!.getAttribute("content")!;
      const press = (key: string, headers: Record<string, string>) =>
        fetch("/api/keypad", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ key }) }).then((r) => r.status);
      return { withToken: await press("4", { "x-esplab-token": token }), without: await press("8", {}) };
    });
    expect(statuses).toEqual({ withToken: 200, without: 403 });
    expect(pressed).toEqual(["4"]);
    await page.close();
  }, 30_000);
});
