import { readFileSync } from "node:fs";
import { SocketLink } from "../../host-tools/flash/link/socket-link.ts";
import { openSession, type Session, type UsbPortKind } from "../../host-tools/flash/operations/session.ts";
import { startChipSimulator, type ChipSimulator, type ChipSimulatorOptions } from "../../host-tools/flash/sim/server.ts";

export const esp32Fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/esp32/${name}`, import.meta.url)));

/** The standard image set: what a Moddable/ESP-IDF build flashes, at ESP-IDF's offsets. */
export function standardImages() {
  return [
    { address: 0x1000, name: "bootloader", data: esp32Fixture("bootloader_esp32.bin") },
    { address: 0x8000, name: "partition-table", data: esp32Fixture("partitions_singleapp.bin") },
    { address: 0x10000, name: "app", data: esp32Fixture("esp32-app-template.bin") },
  ];
}

/** Starts simulators and sessions and closes them all in `close()` (call it from afterEach). */
export class ChipSimHarness {
  readonly simulators: ChipSimulator[] = [];
  readonly sessions: Session[] = [];
  readonly log: string[] = [];

  async simulator(options: ChipSimulatorOptions = {}): Promise<ChipSimulator> {
    const simulator = await startChipSimulator(options);
    this.simulators.push(simulator);
    return simulator;
  }

  /** A session with short timeouts so lost packets are retried quickly. */
  async session(simulator: ChipSimulator, options: { baud?: number; stub?: boolean; usb?: UsbPortKind } = {}): Promise<Session> {
    const link = await SocketLink.open(simulator.url, 115200);
    const session = await openSession({ link, baud: options.baud, stub: options.stub, usb: options.usb, timeouts: { default: 300, sync: 100 }, log: (line) => this.log.push(line) });
    this.sessions.push(session);
    return session;
  }

  async close(): Promise<void> {
    for (const session of this.sessions.splice(0)) await session.close();
    for (const simulator of this.simulators.splice(0)) await simulator.close();
  }
}
