import { parseArgs } from "node:util";
import { listSerialPorts, type SerialPortInfo } from "../flash/ports/list-ports.ts";

const USAGE = `usage: esplab ports [--json]
Lists the USB serial ports a board could be on, with the USB-UART adapter each one is.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
  if (values.help) return (console.log(USAGE), 0);
  const ports = await listSerialPorts();
  if (values.json) {
    console.log(JSON.stringify(ports));
    return 0;
  }
  if (ports.length === 0) {
    console.log(`No USB serial ports found. If a board is plugged in:
  - try another USB cable: many are charge-only and carry no data;
  - the adapter may need a driver (CP210x: Silicon Labs VCP; CH340/CH9102: WCH) on macOS and Windows;
  - under WSL, attach the USB device to Linux first (usbipd attach --wsl --busid …);
  - \`dmesg | tail\` right after plugging it in shows whether the kernel saw it.`);
    return 0;
  }
  for (const line of formatPorts(ports)) console.log(line);
  return 0;
}

export function formatPorts(ports: SerialPortInfo[]): string[] {
  const rows = ports.map((port) => [
    port.path,
    port.vendorId && port.productId ? `${port.vendorId}:${port.productId}` : "",
    port.adapter?.label ?? [port.manufacturer, port.product].filter(Boolean).join(" ") ?? "",
    port.serialNumber ?? "",
  ]);
  const header = ["PORT", "USB ID", "ADAPTER", "SERIAL"];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const format = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd();
  const lines = [format(header), ...rows.map(format)];
  for (const port of ports) {
    if (port.byId) lines.push(`  ${port.path} is also ${port.byId}`);
    if (port.adapter?.note) lines.push(`  ${port.path}: ${port.adapter.note}`);
  }
  return lines;
}
