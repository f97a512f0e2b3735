import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import path from "node:path";
import { knownAdapter, type UsbAdapter } from "./usb-adapters.ts";

export interface SerialPortInfo {
  /** The device to pass as --port. */
  path: string;
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  product?: string;
  serialNumber?: string;
  /** The stable /dev/serial/by-id name, when udev made one. */
  byId?: string;
  adapter?: UsbAdapter;
}

export interface ListOptions {
  /** Roots of sysfs and /dev (tests point them at a fake tree). */
  sysRoot?: string;
  devRoot?: string;
  platform?: NodeJS.Platform;
}

/**
 * The serial ports a board could be on. On Linux it reads sysfs directly (serialport's own listing runs `udevadm`,
 * which minimal systems and containers lack) and lists USB serial devices only; elsewhere it asks serialport.
 */
export async function listSerialPorts(options: ListOptions = {}): Promise<SerialPortInfo[]> {
  const platform = options.platform ?? process.platform;
  if (platform !== "linux") return listWithSerialport();
  return listFromSysfs(options.sysRoot ?? "/sys", options.devRoot ?? "/dev");
}

function listFromSysfs(sysRoot: string, devRoot: string): SerialPortInfo[] {
  const classDir = path.join(sysRoot, "class", "tty");
  if (!existsSync(classDir)) return [];
  const byId = byIdNames(devRoot);
  const ports: SerialPortInfo[] = [];
  for (const name of readdirSync(classDir).sort(naturalOrder)) {
    const deviceLink = path.join(classDir, name, "device");
    if (!existsSync(deviceLink)) continue;
    const usb = usbDeviceDir(realpathSync(deviceLink), sysRoot);
    if (!usb) continue;
    const read = (file: string) => {
      try {
        return readFileSync(path.join(usb, file), "utf8").trim() || undefined;
      } catch {
        return undefined;
      }
    };
    const vendorId = read("idVendor");
    const productId = read("idProduct");
    ports.push({
      path: path.join(devRoot, name),
      vendorId,
      productId,
      manufacturer: read("manufacturer"),
      product: read("product"),
      serialNumber: read("serial"),
      byId: byId.get(name),
      adapter: knownAdapter(vendorId, productId),
    });
  }
  return ports;
}

/** Walks up from a tty's device directory to the USB device that owns it (the one with idVendor). */
function usbDeviceDir(start: string, sysRoot: string): string | undefined {
  const root = realpathSync(sysRoot);
  for (let dir = start; dir.startsWith(root) && dir !== root; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "idVendor"))) return dir;
  }
  return undefined;
}

/** tty name → its /dev/serial/by-id path. */
function byIdNames(devRoot: string): Map<string, string> {
  const dir = path.join(devRoot, "serial", "by-id");
  const names = new Map<string, string>();
  if (!existsSync(dir)) return names;
  for (const entry of readdirSync(dir)) {
    try {
      names.set(path.basename(readlinkSync(path.join(dir, entry))), path.join(dir, entry));
    } catch {
      // not a link
    }
  }
  return names;
}

async function listWithSerialport(): Promise<SerialPortInfo[]> {
  const { SerialPort } = await import("serialport");
  const found = await SerialPort.list();
  return found.map((port) => ({
    path: port.path,
    vendorId: port.vendorId,
    productId: port.productId,
    manufacturer: port.manufacturer,
    serialNumber: port.serialNumber,
    adapter: knownAdapter(port.vendorId, port.productId),
  }));
}

/** What the listing knows about the port a user named (by-id links and other aliases resolved). */
export async function describePort(portPath: string, options: ListOptions = {}): Promise<SerialPortInfo | undefined> {
  let real = portPath;
  try {
    real = realpathSync(portPath);
  } catch {
    // keep the name as given
  }
  const ports = await listSerialPorts(options).catch(() => []);
  return ports.find((port) => port.path === portPath || port.path === real || port.byId === portPath);
}

function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}
