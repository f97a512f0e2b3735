import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { flashImages } from "../../../../host-tools/flash/operations/flash-images.ts";
import { flashWithEsptoolJs } from "../../../../host-tools/flash/peers/esptool-js.ts";
import { ChipSimHarness, standardImages } from "../../../support/chip-sim.ts";

const harness = new ChipSimHarness();
afterEach(() => harness.close());

describe("esplab and esptool-js on the same simulated chip", () => {
  it("leave identical flash contents and agree on chip, MAC and every region's MD5", async () => {
    const regions = [...standardImages(), { address: 0x110000, name: "app-like", data: new Uint8Array(randomBytes(300 * 1024)) }];

    const peerChip = await harness.simulator();
    const peer = await flashWithEsptoolJs(peerChip.url, regions, 921600);

    const ourChip = await harness.simulator();
    const session = await harness.session(ourChip, { baud: 921600 });
    const reports = await flashImages(session, regions);

    expect(Buffer.from(ourChip.flash.read(0, ourChip.flash.size)).equals(Buffer.from(peerChip.flash.read(0, peerChip.flash.size)))).toBe(true);
    expect(peer.mac).toBe(session.chip.mac);
    expect(peer.chip).toContain("ESP32-D0WD");
    expect(session.chip.description).toContain(peer.chip.replace(/ \(revision.*$/, ""));
    expect(peer.md5s).toEqual(reports.map((report) => report.md5));
    expect(peer.log.join("\n")).toMatch(/Hash of data verified/);
  });

  it("read esplab's writes back the same through esptool-js's MD5 and READ_FLASH", async () => {
    const chip = await harness.simulator();
    const regions = standardImages();
    const reports = await flashImages(await harness.session(chip), regions);
    await harness.sessions.pop()!.close();
    // Reconnecting is a reset into the ROM loader; esptool-js then writes the same bytes and checks them itself.
    const peer = await flashWithEsptoolJs(chip.url, regions, 460800, { readBack: true });
    expect(peer.md5s).toEqual(reports.map((report) => report.md5));
    // esptool-js's own READ_FLASH (streamed, acknowledged, MD5-checked) returns the bytes esplab wrote.
    peer.readBack.forEach((bytes, i) => expect(Buffer.from(bytes).equals(Buffer.from(regions[i]!.data))).toBe(true));
  });
});
