import type { Database } from "../net/firebase/rtdb.ts";
import { query } from "../net/firebase/query.ts";
import { serverTimestamp } from "../net/firebase/values.ts";
import type { JsonValue } from "../net/firebase/ordering.ts";
import type { Platform } from "../ports/index.ts";
import type { TimerHandle } from "../ports/clock.ts";
import type { FirmwareConfig } from "./config.ts";
import { openFirebase, signInMode, type PasswordSource } from "./cloud-session.ts";
import { ConfigError } from "./config.ts";
import { describeReading, showLines, type Devices } from "./devices.ts";
import { registerApp, type App } from "./index.ts";
import { openDevices } from "./board-devices.ts";
import { PasswordEntry } from "../ui/password-entry.ts";
import { angleForReading } from "./servo-mapping.ts";

/**
 * Assignment 2: read the IR sensor, sign in with the password typed on the keypad, send each reading with a server
 * timestamp to the Realtime Database, read it back, map it to a servo angle (on the device, or — the bonus — by the
 * local cloud's function, which writes /devices/<id>/angle), show it on the LCD and move the servo.
 *
 * Database layout: /readings/<deviceId>/<pushId> = { cm, obstacle, seq, ts }, /devices/<deviceId>/angle.
 * Settings: reading_interval_ms (default 2000), angle_mode "device" | "cloud" (default device).
 */
export class Assignment2 implements App {
  readonly #platform: Platform;
  readonly #config: FirmwareConfig;
  readonly #devices: Devices;
  readonly #intervalMs: number;
  readonly #cloudAngle: boolean;
  #db: Database | undefined;
  #timer: TimerHandle | undefined;
  #seq = 0;
  #busy = false;
  #stopped = false;

  constructor(platform: Platform, config: FirmwareConfig, devices: Devices, passwords: PasswordSource) {
    this.#platform = platform;
    this.#config = config;
    this.#devices = devices;
    this.#intervalMs = Number(config.values.reading_interval_ms ?? 2000);
    this.#cloudAngle = config.values.angle_mode === "cloud";
    void this.#start(passwords).catch((error: Error) => this.#fail(error));
  }

  async #start(passwords: PasswordSource): Promise<void> {
    const { display } = this.#devices;
    const reading = this.#devices.range.read();
    showLines(display, "esplab A2", describeReading(reading));
    const connection = await openFirebase(this.#platform, this.#config, display, passwords, () => this.#stopped);
    if (this.#stopped) return;
    this.#db = connection.db;
    showLines(display, "Signed in", this.#cloudAngle ? "angle: cloud" : "angle: device");
    this.#platform.log(`angle mapping: ${this.#cloudAngle ? "cloud function (/devices/<id>/angle)" : "on the device"}`);
    this.#timer = this.#platform.clock.setInterval(() => void this.#cycle(), this.#intervalMs);
    void this.#cycle();
  }

  /** One reading: measure, send, read back, map, show, move. Skipped while the previous one is still in flight. */
  async #cycle(): Promise<void> {
    if (this.#busy || this.#stopped || !this.#db) return;
    this.#busy = true;
    const deviceId = this.#config.deviceId;
    try {
      const reading = this.#devices.range.read();
      const seq = ++this.#seq;
      await this.#db.push(`/readings/${deviceId}`, {
        cm: reading.cm === undefined ? null : Math.round(reading.cm * 10) / 10,
        obstacle: reading.obstacle,
        seq,
        ts: serverTimestamp(),
      });
      const [latest] = await this.#db.query(`/readings/${deviceId}`, query().orderByKey().limitToLast(1));
      const stored = (latest?.[1] ?? {}) as { cm?: number | null; obstacle?: boolean; ts?: number };
      const angle = this.#cloudAngle ? await this.#cloudAngleFor(seq) : angleForReading(stored);
      if (this.#stopped) return;
      if (angle !== undefined) this.#devices.servo.writeDegrees(angle);
      showLines(this.#devices.display, describeReading({ cm: stored.cm ?? undefined, obstacle: !!stored.obstacle }), `#${seq} angle ${angle ?? "?"}`);
      this.#platform.log(`reading ${seq}: ${JSON.stringify(stored)} -> ${angle ?? "no angle yet"}`);
    } catch (error) {
      if (this.#stopped) return; // stopped mid-reading: the parts are closed
      this.#platform.log(`reading failed: ${(error as Error).message}`);
      showLines(this.#devices.display, "Cloud error", "retrying...");
    } finally {
      this.#busy = false;
    }
  }

  /** The cloud function writes { angle, seq } for each reading; wait briefly for the one for this reading. */
  async #cloudAngleFor(seq: number): Promise<number | undefined> {
    for (let attempt = 0; attempt < 10 && !this.#stopped; attempt++) {
      const value = (await this.#db!.get(`/devices/${this.#config.deviceId}`)) as { angle?: JsonValue; seq?: JsonValue } | null;
      if (value && value.seq === seq && typeof value.angle === "number") return value.angle;
      await new Promise<void>((resolve) => this.#platform.clock.setTimeout(resolve, 100));
    }
    return undefined;
  }

  #fail(error: Error): void {
    if (this.#stopped) return;
    this.#platform.log(`assignment2 stopped: ${error.message}`);
    showLines(this.#devices.display, "Error:", error.message.slice(0, 16));
  }

  stop(): void {
    this.#stopped = true;
    this.#platform.clock.clear(this.#timer);
    this.#devices.close();
  }
}

/** Assignment 4: the same device, signed in with an ID token and refresh token — no password on the device. */
registerApp("assignment4", (platform, config) => {
  if (signInMode(config) !== "id-token") {
    throw new ConfigError(
      "CONFIG",
      "assignment4 signs in with an ID token: set firebase_refresh_token (and firebase_id_token if you have one) — " +
        "get them with: npx esplab firebase-token --email <user> (the password is asked on the laptop, never stored on the device)",
    );
  }
  return startAssignment2(platform, config);
});

registerApp("assignment2", (platform, config) => startAssignment2(platform, config));

function startAssignment2(platform: Platform, config: FirmwareConfig): App {
  const devices = openDevices(platform, config.wiring);
  const passwords = new PasswordEntry({ display: devices.display, keys: devices.keys, clock: platform.clock, storage: platform.storage });
  return new Assignment2(platform, config, devices, passwords);
}
