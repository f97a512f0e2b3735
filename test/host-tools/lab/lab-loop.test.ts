/**
 * The lab's edit-run loop in a real browser: a syntax error shows on the page and the next good save recovers; the
 * page fits 960 px (beside an editor) and 360 px (a phone); a click shorter than the keypad's scan still registers.
 * The firmware edited here is a temporary copy of firmware/, never the repository's files.
 */
import { esplabProject } from "../../../host-tools/project/project.ts";
import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackgroundBuilder } from "../../../host-tools/build/background-builder.ts";
import type { FlatConfig } from "../../../firmware/apps/config.ts";
import { LAB_WIRING } from "../../../host-tools/board/index.ts";
import { irSensorSettings, partControls } from "../../../host-tools/lab/controls.ts";
import { FirmwareRunner } from "../../../host-tools/lab/firmware-runner.ts";
import { LabServer } from "../../../host-tools/lab/server.ts";
import { watchSources } from "../../../host-tools/lab/source-watcher.ts";
import { VirtualDevice } from "../../../host-tools/runtime/virtual-device.ts";
import { copyFirmware } from "../../support/firmware-copy.ts";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = fs.existsSync(CHROMIUM);
const APP = "apps/board-check.ts";

/** The page as seen from page.evaluate (this file is type-checked without the DOM library). */
type Dom = { document: { getElementById(id: string): { text: string }; documentElement: { scrollWidth: number; clientWidth: number } } };
const lcdText = (page: Page) => page.evaluate(() => (globalThis as unknown as Dom).document.getElementById("lcd").text);

describe.skipIf(!haveChromium)("the lab's edit-run loop in a real browser", () => {
  let tree: ReturnType<typeof copyFirmware>;
  let original: string;
  let device: VirtualDevice;
  let builder: BackgroundBuilder;
  let firmware: FirmwareRunner;
  let server: LabServer;
  let stopWatching = () => {};
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    tree = copyFirmware();
    original = fs.readFileSync(tree.file(APP), "utf8");
    device = new VirtualDevice({ config: { app: "board-check" }, engine: "xs" });
    builder = new BackgroundBuilder();
    let irChoice: FlatConfig = {};
    firmware = new FirmwareRunner({ device, build: () => builder.build("xs", esplabProject(tree.root)), settings: () => ({ app: "board-check", ...irChoice }) });
    const irKind = (kind: "obstacle" | "distance") => {
      irChoice = irSensorSettings(LAB_WIRING, kind);
      return firmware.reset();
    };
    server = new LabServer({ device: () => device, controls: { ...partControls(() => device, () => firmware.reset()), irKind }, firmware });
    url = await server.listen(0);
    stopWatching = watchSources([path.join(tree.root, "firmware")], () => firmware.rebuild(), 100);
    void firmware.rebuild();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
    });
  }, 120_000);

  afterAll(async () => {
    stopWatching();
    await browser?.close();
    await server?.close();
    await firmware?.stop();
    await builder?.close();
    tree?.remove();
  });

  async function open(width: number, height = 900): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height } });
    await page.goto(url);
    await expect.poll(() => page.locator("#firmware").textContent(), { timeout: 60_000 }).toBe("firmware: running");
    return page;
  }

  it("fits 960 px beside an editor and a 360 px phone: no sideways scrolling, the board and the panels on screen", async () => {
    for (const width of [960, 360]) {
      const page = await open(width);
      const overflow = await page.evaluate(() => {
        const root = (globalThis as unknown as Dom).document.documentElement;
        return root.scrollWidth - root.clientWidth;
      });
      expect(overflow, `horizontal overflow at ${width} px`).toBe(0);
      for (const selector of ["#lcd", "#keypad", "#servo", "#reset", ".panels", "#serial"]) {
        const box = (await page.locator(selector).boundingBox())!;
        expect(box, `${selector} at ${width} px`).not.toBeNull();
        expect(box.x, `${selector} left edge at ${width} px`).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width, `${selector} right edge at ${width} px`).toBeLessThanOrEqual(width);
        expect(box.width, `${selector} width at ${width} px`).toBeGreaterThan(0);
      }
      if (width === 960) {
        // Side by side at 960: the board's top and the panels' top on one line.
        const board = (await page.locator(".board").boundingBox())!;
        const panels = (await page.locator(".panels").boundingBox())!;
        expect(panels.x).toBeGreaterThan(board.x + board.width - 1);
      }
      fs.mkdirSync(path.resolve(import.meta.dirname, "../../../test-results"), { recursive: true });
      await page.screenshot({ path: path.resolve(import.meta.dirname, `../../../test-results/lab-${width}.png`), fullPage: true });
      await page.close();
    }
  }, 120_000);

  it("a click as short as the mouse allows registers a key, and so does typing without clicking the keypad first", async () => {
    const page = await open(960);
    const box = (await page.locator('wokwi-membrane-keypad [data-key-name="5"]').boundingBox())!;

    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.up();
    await expect.poll(() => lcdText(page), { timeout: 10_000 }).toContain("key 5");
    await page.locator("h1").click(); // focus away from the drawn keypad: the page itself takes the key
    await page.keyboard.press("b");
    await expect.poll(() => lcdText(page), { timeout: 10_000 }).toContain("key B");
    await page.close();
  }, 60_000);

  it("switches the firmware between the FC-51 and the Sharp sensor (the board resets onto the other one)", async () => {
    const page = await open(960);
    await expect.poll(() => lcdText(page), { timeout: 10_000 }).toMatch(/^IR (clear|obstacle)/);
    await page.locator("#ir-kind").selectOption("distance");
    await expect.poll(() => lcdText(page), { timeout: 30_000 }).toMatch(/^IR 40 cm/);
    await page.reload();
    await expect.poll(() => page.locator("#ir-kind").inputValue()).toBe("distance");
    await page.locator("#ir-kind").selectOption("obstacle");
    await expect.poll(() => lcdText(page), { timeout: 30_000 }).toMatch(/^IR (clear|obstacle)/);
    await page.close();
  }, 90_000);

  it("a syntax error shows in a banner with file:line and the code frame, the firmware 'not running'; the next good save recovers", async () => {
    const page = await open(960);
    const line = original.split("\n").length + 1;
    fs.writeFileSync(tree.file(APP), `${original}\nconst = 1;\n`);
    await expect.poll(() => page.locator("#firmware").textContent(), { timeout: 60_000 }).toBe("firmware: not running");
    await expect(page.locator("#problem").isVisible()).resolves.toBe(true);
    expect(await page.locator("#problem-title").textContent()).toBe("The firmware does not build");
    expect(await page.locator("#problem-message").textContent()).toMatch(new RegExp(`firmware/apps/board-check\\.ts:${line}:7 TS1134`));
    expect(await page.locator("#problem-frame").textContent()).toContain("const = 1;");
    await expect.poll(() => page.locator("#diagnostics").textContent()).toContain("the firmware does not build");

    // A second error (this one used to kill the lab), then the fix, saved the way sed -i saves.
    fs.writeFileSync(tree.file(APP), `${original}\nconst = 2;\n`);
    await expect.poll(() => page.locator("#problem-frame").textContent(), { timeout: 60_000 }).toContain("const = 2;");
    const fixed = original.replace("`servo ${angle}", "`SERVO ${angle}");
    expect(fixed).not.toBe(original);
    fs.writeFileSync(`${tree.file(APP)}.tmp`, fixed);
    fs.renameSync(`${tree.file(APP)}.tmp`, tree.file(APP));
    await expect.poll(() => page.locator("#firmware").textContent(), { timeout: 60_000 }).toBe("firmware: running");
    await expect(page.locator("#problem").isVisible()).resolves.toBe(false);
    await expect.poll(() => lcdText(page), { timeout: 10_000 }).toContain("SERVO");
    await page.close();
  }, 180_000);
});
