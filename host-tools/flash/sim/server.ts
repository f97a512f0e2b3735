import { createServer, type Server, type Socket } from "node:net";
import { SimulatedEsp32, type ChipSimOptions } from "./esp32-chip.ts";
import type { FaultOptions } from "./faults.ts";
import { SimulatedFlash } from "./spi-flash.ts";
import { SimulatedUart } from "./uart.ts";

export interface ChipSimulatorOptions {
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Defaults to a fresh 4 MB in-memory flash. */
  flash?: SimulatedFlash;
  /** 1 = modelled real time (UART at the baud, flash datasheet times), 0 = instant (default). */
  timeScale?: number;
  faults?: FaultOptions;
  mac?: Uint8Array;
  chip?: ChipSimOptions["chip"];
  chipMagic?: ChipSimOptions["chipMagic"];
  romCrystalEstimate?: ChipSimOptions["romCrystalEstimate"];
  usbSerialJtag?: ChipSimOptions["usbSerialJtag"];
  refuseRamUpload?: boolean;
}

export interface ChipSimulator {
  readonly port: number;
  /** What to pass as --port: socket://127.0.0.1:PORT. */
  readonly url: string;
  readonly flash: SimulatedFlash;
  /** The chip of the current (or last) connection; each connection is a reset into download mode. */
  readonly chip: SimulatedEsp32 | undefined;
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * An ESP32 in download mode behind a TCP port. Each connection is the chip freshly reset into the ROM loader at
 * 115200 baud; the flash persists across connections. Like a serial port, it serves one host at a time.
 */
export async function startChipSimulator(options: ChipSimulatorOptions = {}): Promise<ChipSimulator> {
  const flash = options.flash ?? SimulatedFlash.inMemory();
  const sockets = new Set<Socket>();
  let current: SimulatedEsp32 | undefined;
  let connections = 0;
  let busy = false;

  let released: Promise<void> = Promise.resolve();
  let release = () => {};

  const server: Server = createServer({ noDelay: true }, async (socket) => {
    // A host that just closed may still be on its way out; give it a moment before calling the port busy.
    if (busy) await Promise.race([released, new Promise((resolve) => setTimeout(resolve, 1000))]);
    if (busy) {
      socket.end("esplab chip-sim: another host is connected; one at a time\n");
      return;
    }
    busy = true;
    released = new Promise((resolve) => (release = resolve));
    connections++;
    sockets.add(socket);
    const uart: { line?: SimulatedUart } = {};
    const chip = new SimulatedEsp32({ flash, timeScale: options.timeScale, mac: options.mac, chip: options.chip, chipMagic: options.chipMagic, romCrystalEstimate: options.romCrystalEstimate, usbSerialJtag: options.usbSerialJtag, refuseRamUpload: options.refuseRamUpload, commandFaults: options.faults?.commands, replyFaults: options.faults?.replies }, (bytes) => uart.line!.fromChip(bytes));
    uart.line = new SimulatedUart(chip, { timeScale: options.timeScale ?? 0, faults: options.faults }, (bytes) => socket.write(bytes), () => socket.destroy());
    current = chip;
    socket.on("data", (chunk) => uart.line!.fromHost(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    socket.on("error", () => {});
    socket.on("close", () => {
      uart.line!.close();
      sockets.delete(socket);
      busy = false;
      release();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    url: `socket://${options.host ?? "127.0.0.1"}:${port}`,
    flash,
    get chip() {
      return current;
    },
    get connections() {
      return connections;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
