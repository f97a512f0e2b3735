import type { ByteLink } from "./link.ts";
import { LinkError } from "./link.ts";
import { SocketLink } from "./socket-link.ts";

/** Opens what --port names: socket://host:port, or (once serial support lands) a device path. */
export async function openLink(spec: string | undefined, baud: number): Promise<ByteLink> {
  if (!spec) throw new LinkError("no-port", "no port given: pass --port /dev/ttyUSB0 (see `esplab ports`) or --port socket://HOST:PORT");
  if (spec.startsWith("socket://")) return SocketLink.open(spec, baud);
  throw new LinkError("no-serial", `serial ports are not supported yet; use socket://`);
}
