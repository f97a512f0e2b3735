import type { Database } from "../net/firebase/rtdb.ts";
import type { Platform } from "../ports/index.ts";
import { PasswordEntry } from "../ui/password-entry.ts";
import { openDevices } from "./board-devices.ts";
import { openFirebase, signInMode } from "./cloud-session.ts";
import type { FirmwareConfig } from "./config.ts";
import { showLines, type Devices } from "./devices.ts";
import type { App } from "./index.ts";

/**
 * The common start of the database assignments: open the parts, sign in the way the configuration says (keypad
 * password, ID token, …), then hand over to `ready`. Errors end up on the LCD and the serial console.
 */
export abstract class SignedInApp implements App {
  protected readonly platform: Platform;
  protected readonly config: FirmwareConfig;
  protected readonly devices: Devices;
  protected db: Database | undefined;
  protected stopped = false;
  readonly #name: string;

  constructor(name: string, platform: Platform, config: FirmwareConfig) {
    this.#name = name;
    this.platform = platform;
    this.config = config;
    this.devices = openDevices(platform, config.wiring);
    void this.#start().catch((error: Error) => this.fail(error));
  }

  async #start(): Promise<void> {
    showLines(this.devices.display, this.#name, signInMode(this.config) === "id-token" ? "ID token" : "");
    const passwords = new PasswordEntry({ display: this.devices.display, keys: this.devices.keys, clock: this.platform.clock, storage: this.platform.storage });
    const connection = await openFirebase(this.platform, this.config, this.devices.display, passwords, () => this.stopped);
    if (this.stopped) return;
    this.db = connection.db;
    this.platform.log(`${this.#name}: signed in (${signInMode(this.config)})`);
    await this.ready(connection.db);
  }

  protected abstract ready(db: Database): Promise<void>;

  protected fail(error: Error): void {
    if (this.stopped) return;
    this.platform.log(`${this.#name}: ${error.message}`);
    showLines(this.devices.display, "Error:", error.message.slice(0, 16));
  }

  protected wait(ms: number): Promise<void> {
    return new Promise((resolve) => this.platform.clock.setTimeout(resolve, ms));
  }

  stop(): void {
    this.stopped = true;
    this.devices.close();
  }
}
