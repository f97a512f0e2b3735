import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partControls } from "../../../host-tools/lab/controls.ts";
import { LabServer } from "../../../host-tools/lab/server.ts";
import { VirtualDevice } from "../../../host-tools/runtime/virtual-device.ts";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) console.warn(`\n  NOTICE: ${CHROMIUM} is missing, so the lab page's browser test is skipped (apt-get install chromium).\n`);

/** The page as seen from page.evaluate (this file is type-checked without the DOM library). */
type Page = { document: { getElementById(id: string): { text: string; angle: number } } };

const OUTPUT = path.resolve(import.meta.dirname, "../../../test-results");

describe.skipIf(!haveChromium)("the lab page in a real browser", () => {
  let device: VirtualDevice;
  let server: LabServer;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    device = new VirtualDevice({ config: { app: "board-check" }, engine: "node" });
    await device.start();
    server = new LabServer({ device: () => device, controls: partControls(() => device, () => device.restart()) });
    url = await server.listen(0);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await device?.stop();
  });

  it("shows the board, takes a key from the drawn keypad and moves the servo from the IR control", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(url);
    await expect.poll(() => page.locator("#status").textContent(), { timeout: 10_000 }).toBe("live");

    // Hold the key like a finger would (the driver debounces 10 ms), on the keypad drawn by @wokwi/elements.
    const key = page.locator('wokwi-membrane-keypad [data-key-name="5"]');
    const box = (await key.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.waitForTimeout(150);
    await page.mouse.up();
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as Page).document.getElementById("lcd").text), { timeout: 5000 }).toContain("key 5");

    await page.locator("#obstacle").check();
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as Page).document.getElementById("servo").angle), { timeout: 5000 }).toBeGreaterThan(170);
    await expect.poll(() => page.locator("#serial").textContent(), { timeout: 5000 }).toContain("IR obstacle -> servo 180");

    fs.mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT, "lab.png"), fullPage: true });
    await page.close();
  }, 60_000);
});
