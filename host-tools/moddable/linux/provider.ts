// `embedded:provider/builtin` for firmware on Moddable's Linux runtime: the ESP32 host's IO classes (Digital,
// Analog, PWM, I2C), with the pins and buses on esplab's virtual board. Runs inside XS, bundled for mcconfig.
import { call, listen, memory } from "esplab/board";
import { bridgedIO, type HostCall } from "../../../firmware/platform/xs/bridged-io.ts";

const callHost: HostCall = <T>(op: string, args?: unknown): T => {
  const reply = JSON.parse(call(JSON.stringify({ op, args }))) as { ok: true; value: T } | { error: string; code?: string };
  if ("error" in reply) throw new Error(reply.error);
  return reply.value;
};

const bridged = bridgedIO(callHost);

/**
 * Called by the engine's main at boot (the top level runs when the linker preloads, with no host): from then on the
 * host's events arrive — input edges, and requests for a memory report.
 */
export function connectBoard(): void {
  listen((json: string) => {
    const { event, args } = JSON.parse(json) as { event: string; args: unknown[] };
    if (event === "edge") bridged.edge(args[0] as number);
    else if (event === "memory") callHost("memory", JSON.parse(memory()));
  });
}

const device = { io: bridged.io };
export default device;
