import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partControls } from "../../../host-tools/lab/controls.ts";
import { LabServer } from "../../../host-tools/lab/server.ts";
import { VirtualDevice } from "../../../host-tools/runtime/virtual-device.ts";
import { startLocalCloud, type LocalCloud } from "../../../host-tools/cloud/index.ts";
import { databaseFeed, mqttFeed, readingsFeed } from "../../../host-tools/lab/feeds.ts";

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
  let cloud: LocalCloud;
  let url: string;

  beforeAll(async () => {
    cloud = await startLocalCloud({ databasePort: 0, authPort: 0, mqttPort: 0 });
    device = new VirtualDevice({ config: { ...cloud.firmwareConfig, app: "assignment2", reading_interval_ms: 500 }, engine: "node" });
    await device.start();
    server = new LabServer({
      device: () => device,
      controls: {
        ...partControls(() => device, () => device.restart()),
        publish: (topic, payload) => cloud.mqtt.publish(topic, payload, { qos: 1 }),
        clearDatabase: () => cloud.firebase.database.adminSet(cloud.namespace, "/", null),
      },
      feeds: [databaseFeed(cloud), readingsFeed(cloud, () => "Device001"), mqttFeed(cloud)],
    });
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
    await cloud?.close();
  });

  it("types the password on the drawn keypad, then the readings move the servo and change the LCD", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(url);
    await expect.poll(() => page.locator("#status").textContent(), { timeout: 10_000 }).toBe("live");
    const lcdText = () => page.evaluate(() => (globalThis as unknown as Page).document.getElementById("lcd").text);
    await expect.poll(lcdText, { timeout: 10_000 }).toContain("Password:");

    // Hold each key like a finger would (the driver debounces 10 ms), on the keypad drawn by @wokwi/elements.
    for (const label of "123456#") {
      const box = (await page.locator(`wokwi-membrane-keypad [data-key-name="${label}"]`).boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      await page.waitForTimeout(120);
      await page.mouse.up();
      await page.waitForTimeout(80);
    }
    await expect.poll(lcdText, { timeout: 10_000 }).toContain("IR clear");

    await page.locator("#obstacle").check();
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as Page).document.getElementById("servo").angle), { timeout: 10_000 }).toBeGreaterThan(170);
    await expect.poll(lcdText, { timeout: 5000 }).toContain("IR obstacle");
    await expect.poll(() => page.locator("#db").textContent(), { timeout: 5000 }).toContain('"obstacle": true');

    // The MQTT panel (closed at first for Assignment 2) publishes through the local broker; what it carries is logged.
    expect(await page.locator('details[data-panel="mqtt"]').getAttribute("open")).toBeNull();
    await page.locator('details[data-panel="mqtt"] summary').click();
    await page.locator("#mqtt-topic").fill("cmd/Device001/lcd");
    await page.locator("#mqtt-payload").fill("hello from the lab");
    await page.locator("#mqtt-send button").click();
    await expect.poll(() => page.locator("#mqtt").textContent(), { timeout: 5000 }).toContain("cmd/Device001/lcd  hello from the lab");

    fs.mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT, "lab.png"), fullPage: true });

    await page.locator("#mqtt-topic").fill("cmd/+/lcd");
    await page.locator("#mqtt-send button").click();
    await expect.poll(() => page.locator("#mqtt").textContent(), { timeout: 5000 }).toContain("not sent: send {");

    // The newest reading is listed first; Clear database (confirmed) empties the tree and the chart.
    const db = (await page.locator("#db").textContent())!;
    const keys = [...db.matchAll(/"(-[\w-]{19})"/g)].map((match) => match[1]!);
    expect(keys.length).toBeGreaterThan(1);
    expect(keys).toEqual([...keys].sort().reverse());
    await device.stop(); // no more readings arrive while the cleared tree is checked
    page.once("dialog", (dialog) => void dialog.accept());
    await page.locator("#db-clear").click();
    await expect.poll(() => page.locator("#db").textContent(), { timeout: 5000 }).not.toContain('"readings"');
    expect(cloud.firebase.database.store(cloud.namespace).get(["readings"])).toBeNull();
    await page.close();
  }, 60_000);
});
