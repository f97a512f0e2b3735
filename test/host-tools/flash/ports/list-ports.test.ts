import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatPorts } from "../../../../host-tools/commands/ports.ts";
import { describePort, listSerialPorts } from "../../../../host-tools/flash/ports/list-ports.ts";

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), "esplab-sysfs-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Lays out sysfs the way Linux does for a USB serial adapter (ttyUSB: interface/port dir; ttyACM: interface dir). */
function usbTty(name: string, usbDir: string, ids: { vendor: string; product: string; manufacturer?: string; product_name?: string; serial?: string }, nested: boolean) {
  const device = path.join(root, "sys/devices/pci0000:00/usb1", usbDir);
  const iface = path.join(device, `${usbDir}:1.0`);
  const portDir = nested ? path.join(iface, name) : iface;
  mkdirSync(portDir, { recursive: true });
  writeFileSync(path.join(device, "idVendor"), `${ids.vendor}\n`);
  writeFileSync(path.join(device, "idProduct"), `${ids.product}\n`);
  if (ids.manufacturer) writeFileSync(path.join(device, "manufacturer"), `${ids.manufacturer}\n`);
  if (ids.product_name) writeFileSync(path.join(device, "product"), `${ids.product_name}\n`);
  if (ids.serial) writeFileSync(path.join(device, "serial"), `${ids.serial}\n`);
  mkdirSync(path.join(root, "sys/class/tty", name), { recursive: true });
  symlinkSync(portDir, path.join(root, "sys/class/tty", name, "device"));
}

describe("listSerialPorts without udevadm (sysfs)", () => {
  it("finds USB serial ports, names their adapters, and skips consoles and legacy UARTs", async () => {
    usbTty("ttyUSB0", "1-2", { vendor: "1a86", product: "7523", product_name: "USB Serial" }, true);
    usbTty("ttyACM0", "1-3", { vendor: "303a", product: "1001", manufacturer: "Espressif", serial: "F4:12:FA:00:11:22" }, false);
    usbTty("ttyUSB10", "1-4", { vendor: "10c4", product: "ea60", serial: "0001" }, true);
    usbTty("ttyACM1", "1-5", { vendor: "303a", product: "0002", manufacturer: "Espressif" }, false);
    mkdirSync(path.join(root, "sys/class/tty/tty0"), { recursive: true });
    mkdirSync(path.join(root, "sys/devices/platform/serial8250/tty/ttyS0"), { recursive: true });
    mkdirSync(path.join(root, "sys/class/tty/ttyS0"), { recursive: true });
    symlinkSync(path.join(root, "sys/devices/platform/serial8250/tty/ttyS0"), path.join(root, "sys/class/tty/ttyS0/device"));
    mkdirSync(path.join(root, "dev/serial/by-id"), { recursive: true });
    symlinkSync("../../ttyUSB10", path.join(root, "dev/serial/by-id/usb-Silicon_Labs_CP2102_0001-if00-port0"));

    const ports = await listSerialPorts({ sysRoot: path.join(root, "sys"), devRoot: path.join(root, "dev"), platform: "linux" });
    expect(ports.map((p) => [path.basename(p.path), p.vendorId, p.productId, p.adapter?.label])).toEqual([
      ["ttyACM0", "303a", "1001", "Espressif USB-Serial/JTAG"],
      ["ttyACM1", "303a", "0002", "ESP32-S2 USB-OTG (ROM download mode)"],
      ["ttyUSB0", "1a86", "7523", "WCH CH340"],
      ["ttyUSB10", "10c4", "ea60", "Silicon Labs CP210x"],
    ]);
    expect(ports[0]!.adapter?.usbJtag).toBe(true);
    expect(ports[1]!.adapter?.usbOtg).toBe(true);
    expect(ports[3]!.byId).toBe(path.join(root, "dev/serial/by-id/usb-Silicon_Labs_CP2102_0001-if00-port0"));

    const lines = formatPorts(ports);
    expect(lines[0]).toMatch(/^PORT\s+USB ID\s+ADAPTER\s+SERIAL$/);
    expect(lines.join("\n")).toMatch(/ttyUSB0: often unreliable above 460800 baud/);

    const jtag = await describePort(path.join(root, "dev/ttyACM0"), { sysRoot: path.join(root, "sys"), devRoot: path.join(root, "dev"), platform: "linux" });
    expect(jtag?.adapter?.usbJtag).toBe(true);
  });

  it("returns nothing (not an error) on a machine without /sys/class/tty", async () => {
    expect(await listSerialPorts({ sysRoot: path.join(root, "nowhere"), platform: "linux" })).toEqual([]);
  });
});
