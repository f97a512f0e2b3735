import { afterEach, describe, expect, it, vi } from "vitest";
import { Op } from "../../../../host-tools/flash/protocol/commands.ts";
import { CHIPS } from "../../../../host-tools/flash/chips/known-chips.ts";
import type { ChipName } from "../../../../host-tools/flash/chips/chip-family.ts";
import { FlashPlanError, type FlashRegion } from "../../../../host-tools/flash/image/plan.ts";
import { flashImages } from "../../../../host-tools/flash/operations/flash-images.ts";
import { flashWithEsptoolJs } from "../../../../host-tools/flash/peers/esptool-js.ts";
import { ChipSimHarness, esp32Fixture } from "../../../support/chip-sim.ts";
import { syntheticAppImage } from "../../../support/esp-image.ts";

const harness = new ChipSimHarness();
afterEach(() => harness.close());

/** What each simulated sample is, as esptool would print it. */
const EXPECTED: Record<ChipName, { description: string; features: string[]; mac: string }> = {
  esp32: { description: "ESP32-D0WD-V3 (revision v3.0)", features: ["Wi-Fi", "BT", "Dual Core"], mac: "24:0a:c4:5e:1a:b0" },
  esp32s2: { description: "ESP32-S2 (revision v0.0)", features: ["Wi-Fi", "Single Core", "240MHz", "No Embedded Flash", "No Embedded PSRAM", "No calibration in BLK2 of efuse"], mac: "7c:df:a1:00:2c:10" },
  esp32s3: { description: "ESP32-S3 (QFN56) (revision v0.2)", features: ["Wi-Fi", "BT 5 (LE)", "Dual Core + LP Core", "240MHz"], mac: "f4:12:fa:40:3b:21" },
  esp32c3: { description: "ESP32-C3 (QFN32) (revision v0.4)", features: ["Wi-Fi", "BT 5 (LE)", "Single Core", "160MHz"], mac: "34:85:18:7a:5c:04" },
  esp32c6: { description: "ESP32-C6 (QFN40) (revision v0.1)", features: ["Wi-Fi 6", "BT 5 (LE)", "IEEE802.15.4", "Single Core + LP Core", "160MHz"], mac: "40:4c:ca:51:0e:88" },
};

/**
 * A build's images for each chip at its offsets. Real ESP-IDF images where esptool's test data has them (the C3's
 * bootloader, the S2's blink app, the S3's and C6's RAM hello-world images, placed as data regions so their headers
 * are checked too); synthetic ones with the chip's id for the rest.
 */
function imagesFor(chip: ChipName): FlashRegion[] {
  const family = CHIPS.find((c) => c.name === chip)!;
  const id = family.imageChipId;
  const bootloader = chip === "esp32" ? esp32Fixture("bootloader_esp32.bin") : chip === "esp32c3" ? esp32Fixture("bootloader_esp32c3.bin") : syntheticAppImage(id, 20 * 1024, 7);
  const app = chip === "esp32" ? esp32Fixture("esp32-app-template.bin") : chip === "esp32s2" ? esp32Fixture("esp_idf_blink_esp32s2.bin") : syntheticAppImage(id, 600 * 1024);
  const regions: FlashRegion[] = [
    { address: family.bootloaderOffset, name: "bootloader", data: bootloader },
    { address: 0x8000, name: "partition-table", data: esp32Fixture("partitions_singleapp.bin") },
    { address: 0x10000, name: "app", data: app },
  ];
  if (chip === "esp32s3" || chip === "esp32c6") regions.push({ address: 0x200000, name: "hello-world", data: esp32Fixture(`helloworld-${chip}.bin`) });
  return regions;
}

describe.each(CHIPS.map((chip) => chip.name))("the %s", (chip) => {
  it("is identified, runs its own stub and holds its images after a flash", async () => {
    const simulator = await harness.simulator({ chip });
    const session = await harness.session(simulator, { baud: 921600 });
    expect(session.chip.kind.name).toBe(chip);
    expect({ description: session.chip.description, features: session.chip.features, mac: session.chip.mac }).toEqual(EXPECTED[chip]);
    expect(session.loader.isStub).toBe(true);
    expect(session.flashSize).toBe(4 * 1024 * 1024);
    const regions = imagesFor(chip);
    const reports = await flashImages(session, regions);
    expect(reports.map((report) => report.skipped)).toEqual(regions.map(() => false));
    for (const region of regions) expect(Buffer.from(simulator.flash.read(region.address, region.data.length)).equals(Buffer.from(region.data))).toBe(true);
  });

  it("flashes through its ROM loader alone, with the ROM's own FLASH_DEFL_BEGIN", async () => {
    const simulator = await harness.simulator({ chip });
    const session = await harness.session(simulator, { stub: false });
    const begins: number[] = [];
    const command = session.loader.command.bind(session.loader);
    vi.spyOn(session.loader, "command").mockImplementation((op, data, options) => {
      if (op === Op.FLASH_DEFL_BEGIN) begins.push(data.length);
      return command(op, data, options);
    });
    const bootloader = imagesFor(chip)[0]!;
    await flashImages(session, [bootloader]);
    expect(Buffer.from(simulator.flash.read(bootloader.address, bootloader.data.length)).equals(Buffer.from(bootloader.data))).toBe(true);
    // The ESP32's ROM takes four words; the later chips' a fifth (0: not an encrypted write), as esptool sends.
    expect(new Set(begins)).toEqual(new Set([chip === "esp32" ? 16 : 20]));
    expect(simulator.chip!.mode).toBe("rom");
  });

  it("is read the same by esptool-js, with esptool-js's own tables, and flashed by it to the same bytes", async () => {
    const regions = imagesFor(chip);
    const peerChip = await harness.simulator({ chip });
    const peer = await flashWithEsptoolJs(peerChip.url, regions, 921600);
    const ourChip = await harness.simulator({ chip });
    const session = await harness.session(ourChip, { baud: 921600 });
    const reports = await flashImages(session, regions);
    expect(peer.mac).toBe(session.chip.mac);
    // esptool-js prints the chip name its way ("ESP32-C6 (revision 1)"); the name before the revision agrees.
    expect(peer.chip).toContain(session.chip.kind.label);
    expect(session.chip.description.startsWith(peer.chip.replace(/ \(revision.*$/, ""))).toBe(true);
    // It reads the flash id through the chip's SPI registers at its own addresses: the simulated controller answers.
    expect(peer.log).toContain("Flash ID: 1640ef");
    expect(peer.md5s).toEqual(reports.map((report) => report.md5));
    expect(Buffer.from(ourChip.flash.read(0, ourChip.flash.size)).equals(Buffer.from(peerChip.flash.read(0, peerChip.flash.size)))).toBe(true);
  });
});

describe("images for another chip", () => {
  it("are refused before anything is written, naming both chips, and the bootloader is expected at the chip's offset", async () => {
    const simulator = await harness.simulator({ chip: "esp32s3" });
    const session = await harness.session(simulator);
    const error = await flashImages(session, [{ address: 0x10000, name: "app", data: esp32Fixture("esp32-app-template.bin") }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlashPlanError);
    expect((error as Error).message).toContain("this image is for ESP32 but the board is an ESP32-S3");
    // At 0x0 the S3's ROM looks for its bootloader: a file that is no image is refused there.
    const notAnImage = await flashImages(session, [{ address: 0x0, name: "bootloader", data: new Uint8Array(4096).fill(0x11) }]).catch((e: unknown) => e);
    expect((notAnImage as Error).message).toContain("at 0x0 an app/bootloader image is expected");
    expect(simulator.chip!.commandCounts.get("FLASH_DEFL_BEGIN") ?? 0).toBe(0);
  });
});

describe("images for another revision", () => {
  it("are refused when their revision range leaves out the board's chip, read as esptool reads it", async () => {
    // The simulated ESP32-C3 is v0.4.
    const simulator = await harness.simulator({ chip: "esp32c3" });
    const session = await harness.session(simulator);
    const attempt = (revisions: Parameters<typeof syntheticAppImage>[3]) => flashImages(session, [{ address: 0x10000, name: "app", data: syntheticAppImage(5, 8 * 1024, 1, revisions) }]).then(() => "flashed", (error: Error) => error.message);
    expect(await attempt({ minFullRev: 5 })).toContain("app: this image needs chip revision v0.5 or later (this board's ESP32-C3 is v0.4)");
    expect(await attempt({ minFullRev: 0, maxFullRev: 3 })).toContain("this image needs a chip revision from v0.0 to v0.3 (this board's ESP32-C3 is v0.4)");
    // Before ESP-IDF 5 only min_rev, the C3's minor revision: 5 is refused, 3 flashes.
    expect(await attempt({ minRev: 5, maxFullRev: 0 })).toContain("this image needs chip revision 5 or later (esptool's legacy min_rev, the minor revision)");
    expect(simulator.chip!.commandCounts.get("FLASH_DEFL_BEGIN") ?? 0).toBe(0);
    expect(await attempt({ minRev: 3, maxFullRev: 0 })).toBe("flashed");
    expect(await attempt({ minFullRev: 4 })).toBe("flashed");
  });
});

describe("the chip's own USB port", () => {
  it("USB-Serial/JTAG: the ROM's watchdog resets a chip mid-flash unless the session turns it off", async () => {
    const regions = imagesFor("esp32s3");
    const unprotected = await harness.simulator({ chip: "esp32s3", usbSerialJtag: { watchdogCommands: 40 } });
    const failed = await harness.session(unprotected).then((session) => flashImages(session, regions)).then(() => "flashed", (error: unknown) => error);
    expect((failed as Error).message).toContain('the ESP32-S3 restarted while app at 0x10000 was being written: it printed "rst:0x10 (RTCWDT_RTC_RST)"');
    expect((failed as Error).message).toContain("A watchdog reset it.");
    expect(unprotected.chip!.watchdogResets).toBeGreaterThan(0);

    const protectedChip = await harness.simulator({ chip: "esp32s3", usbSerialJtag: { watchdogCommands: 40 } });
    const session = await harness.session(protectedChip, { usb: "serial-jtag" });
    await flashImages(session, regions);
    expect(protectedChip.chip!.watchdogResets).toBe(0);
    for (const region of regions) expect(Buffer.from(protectedChip.flash.read(region.address, region.data.length)).equals(Buffer.from(region.data))).toBe(true);
    expect(harness.log).toContain("USB-Serial/JTAG port: the chip's RTC and super watchdogs are off for this session");
  });

  it("USB-OTG: RAM and flash blocks of 2 KB at most", async () => {
    const simulator = await harness.simulator({ chip: "esp32s2" });
    const session = await harness.session(simulator, { usb: "otg" });
    const sizes: number[] = [];
    const command = session.loader.command.bind(session.loader);
    vi.spyOn(session.loader, "command").mockImplementation((op, data, options) => {
      if (op === Op.FLASH_DEFL_DATA) sizes.push(data.length - 16);
      return command(op, data, options);
    });
    const app = esp32Fixture("esp_idf_blink_esp32s2.bin");
    await flashImages(session, [{ address: 0x10000, name: "app", data: app }]);
    expect(Math.max(...sizes)).toBe(0x800);
    expect(Buffer.from(simulator.flash.read(0x10000, app.length)).equals(Buffer.from(app))).toBe(true);
  });
});
