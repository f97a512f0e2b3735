import { type ByteLink, LinkError } from "./link.ts";
import { SerialLink } from "./serial-link.ts";
import { SocketLink } from "./socket-link.ts";

/** Opens what --port names: socket://HOST:PORT, or a serial device (/dev/ttyUSB0, /dev/cu.usbserial-…, COM3). */
export async function openLink(spec: string | undefined, baud: number): Promise<ByteLink> {
  if (!spec) throw new LinkError("no-port", "no port given: pass --port /dev/ttyUSB0 (see `esplab ports`) or --port socket://HOST:PORT, or set ESPLAB_PORT");
  if (spec.startsWith("socket://")) return SocketLink.open(spec, baud);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) throw new LinkError("bad-port", `"${spec}": only socket://HOST:PORT URLs are supported; serial ports are device paths`);
  return SerialLink.open(spec, baud);
}
