import { createHash } from "node:crypto";
import { ESPLoader, Transport } from "esptool-js";
import type { FlashRegion } from "../image/plan.ts";
import { WebSerialSocketPort } from "./web-serial-socket-port.ts";

export interface EsptoolJsResult {
  chip: string;
  mac: string;
  /** MD5 of each region as esptool-js read it back from the chip. */
  md5s: string[];
  /** With `readBack`, each region as esptool-js's READ_FLASH returned it. */
  readBack: Uint8Array[];
  log: string[];
}

/**
 * Flashes regions with esptool-js (compressed, stub, the given baud, MD5-checked by esptool-js itself) through a
 * socket:// port, and reports what it printed about the chip.
 */
export async function flashWithEsptoolJs(url: string, regions: FlashRegion[], baud: number, options: { readBack?: boolean } = {}): Promise<EsptoolJsResult> {
  const log: string[] = [];
  const port = new WebSerialSocketPort(url);
  const transport = new Transport(port as never, false);
  const terminal = { clean() {}, writeLine: (line: string) => log.push(line), write: (text: string) => log.push(text) };
  const loader = new ESPLoader({ transport, baudrate: baud, romBaudrate: 115200, terminal });
  try {
    await loader.main("no_reset");
    await loader.writeFlash({
      fileArray: regions.map((region) => ({ address: region.address, data: region.data })),
      flashMode: "keep",
      flashFreq: "keep",
      flashSize: "keep",
      eraseAll: false,
      compress: true,
      calculateMD5Hash: (image) => createHash("md5").update(image).digest("hex"),
    });
    const md5s: string[] = [];
    for (const region of regions) md5s.push(await loader.flashMd5sum(region.address, region.data.length));
    const readBack: Uint8Array[] = [];
    if (options.readBack) for (const region of regions) readBack.push(await loader.readFlash(region.address, region.data.length));
    const find = (prefix: string) => log.find((line) => line.startsWith(prefix))?.slice(prefix.length).trim() ?? "";
    return { chip: find("Chip is "), mac: find("MAC: "), md5s, readBack, log };
  } finally {
    await transport.disconnect().catch(() => {});
  }
}
