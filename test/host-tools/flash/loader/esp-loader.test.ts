import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { EspLoader } from "../../../../host-tools/flash/loader/esp-loader.ts";
import { SocketLink } from "../../../../host-tools/flash/link/socket-link.ts";
import { startChipSimulator, type ChipSimulator } from "../../../../host-tools/flash/sim/server.ts";

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../../fixtures/esp32/${name}`, import.meta.url)));

let simulator: ChipSimulator | undefined;
let loader: EspLoader | undefined;

afterEach(async () => {
  await loader?.link.close();
  loader?.close();
  await simulator?.close();
  loader = undefined;
  simulator = undefined;
});

async function connect(options: Parameters<typeof startChipSimulator>[0] = {}): Promise<EspLoader> {
  simulator = await startChipSimulator(options);
  const link = await SocketLink.open(simulator.url, 115200);
  loader = new EspLoader(link, { timeouts: { default: 400 } });
  await loader.connect();
  return loader;
}

describe("EspLoader against the simulated ESP32", () => {
  it("identifies the chip like esptool: description, features and MAC from eFuses", async () => {
    const esp = await connect({ mac: Uint8Array.from([0x24, 0x0a, 0xc4, 0x01, 0x02, 0x03]) });
    expect(esp.chip.kind.name).toBe("esp32");
    expect(esp.chip.description).toBe("ESP32-D0WD-V3 (revision v3.0)");
    expect(esp.chip.features).toEqual(["Wi-Fi", "BT", "Dual Core"]);
    expect(esp.chip.mac).toBe("24:0a:c4:01:02:03");
    expect(esp.isStub).toBe(false);
  });

  it("uploads the stub, detects a 4 MB flash, writes compressed, verifies MD5 and reads back", async () => {
    const esp = await connect();
    await esp.runStub();
    expect(esp.isStub).toBe(true);
    expect((await esp.attachFlash()).flashSize).toBe(4 * 1024 * 1024);
    const app = fixture("esp32-app-template.bin");
    await esp.writeRegion(0x10000, app);
    expect(Buffer.from(await esp.readFlash(0x10000, app.length)).equals(app)).toBe(true);
    expect(Buffer.from(simulator!.flash.read(0x10000, app.length)).equals(app)).toBe(true);
  });

  it("writes through the ROM loader alone (1 KB blocks, MD5 as hex text, 64-byte reads)", async () => {
    const esp = await connect();
    await esp.attachFlash();
    const bootloader = fixture("bootloader_esp32.bin");
    await esp.writeRegion(0x1000, bootloader);
    expect(await esp.readFlash(0x1000, 256)).toEqual(bootloader.subarray(0, 256));
    expect(simulator!.chip!.mode).toBe("rom");
  });

  it("asks the ESP32's ROM for the rate scaled by its own crystal estimate, so the rate it sets is the one asked for", async () => {
    // A ROM whose 8 MHz clock ran fast believes its 40 MHz crystal is 41 MHz: asked for 921600 it would set 899 122.
    const esp = await connect({ romCrystalEstimate: 41_000_000 });
    expect(await esp.changeBaud(921600)).toBe(true);
    expect(Math.abs(simulator!.chip!.baud - 921600) / 921600).toBeLessThan(0.001);
    expect(esp.link.baud).toBe(921600);
  });

  it("names a chip of the family it does not flash, and one it does not know, with what it does flash", async () => {
    const cases = [
      { chipMagic: 0x0c21e06f, message: "this board is an ESP32-C2; esplab flashes the ESP32, ESP32-S2, ESP32-S3, ESP32-C3, ESP32-C6. Use esptool (pip install esptool) for the ESP32-C2" },
      { chipMagic: 0x12345678, message: "unknown chip (magic register 0x12345678): esplab knows the ESP32, ESP32-S2, ESP32-S3, ESP32-C3, ESP32-C6" },
    ];
    for (const { chipMagic, message } of cases) {
      await simulator?.close();
      simulator = await startChipSimulator({ chipMagic });
      const link = await SocketLink.open(simulator.url, 115200);
      const esp = new EspLoader(link, { timeouts: { default: 400 } });
      const error = await esp.connect().catch((e: unknown) => e);
      esp.close();
      await link.close();
      expect((error as Error).message).toBe(message);
    }
  });
});
