import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

export { freePort } from "../../test/firmware/net/mqtt/brokers.ts";

/** A broker the soak can stop and start again on the same port, its persistent sessions kept on disk. */
export interface SoakBroker {
  readonly name: string;
  readonly port: number;
  start(): Promise<void>;
  /** SIGTERM, as a service manager stops it: the broker saves its sessions on the way out. */
  stop(): Promise<void>;
}

const root = path.resolve(import.meta.dirname, "../..");

/**
 * Debian's mosquitto with persistence, saved every second and at shutdown, as /etc/mosquitto/mosquitto.conf has it.
 * Started as root, mosquitto switches to the user "mosquitto", which cannot write a root-owned temporary directory —
 * and then keeps no session at all, saying so only in its log; `user root` keeps it able to save.
 */
export function mosquittoBroker(binary: string, dir: string, port: number): SoakBroker {
  const config = path.join(dir, "mosquitto.conf");
  const user = process.getuid?.() === 0 ? "user root\n" : "";
  fs.writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location ${dir}/\nautosave_interval 1\nmax_inflight_messages 0\n${user}`);
  return processBroker("mosquitto", port, () => spawn(binary, ["-c", config], { stdio: ["ignore", "ignore", "pipe"] }));
}

/** esplab's own broker (aedes) with `--data`: sessions in SQLite. */
export function esplabBroker(dir: string, port: number): SoakBroker {
  return processBroker("aedes (esplab broker --data)", port, () =>
    spawn(process.execPath, [path.join(root, "bin/esplab.js"), "broker", "--port", String(port), "--data", dir], { cwd: root, stdio: ["ignore", "ignore", "pipe"] }),
  );
}

function processBroker(name: string, port: number, launch: () => ChildProcess): SoakBroker {
  let child: ChildProcess | undefined;
  return {
    name,
    port,
    async start() {
      const started = launch();
      child = started;
      let stderr = "";
      started.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
      const deadline = Date.now() + 60_000;
      while (!(await accepts(port))) {
        if (started.exitCode !== null || Date.now() > deadline) throw new Error(`${name} did not start on port ${port}: ${stderr.trim() || `exit ${started.exitCode}`}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once("exit", resolve));
      running.kill("SIGTERM");
      await exited;
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
