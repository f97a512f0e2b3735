import type { Database } from "../net/firebase/rtdb.ts";
import { serverTimestamp } from "../net/firebase/values.ts";
import type { JsonValue } from "../net/firebase/ordering.ts";
import type { Platform } from "../ports/index.ts";
import type { FirmwareConfig } from "./config.ts";
import { showLines } from "./devices.ts";
import { registerApp } from "./index.ts";
import { SignedInApp } from "./signed-in-app.ts";

/**
 * Assignment 3: read, update and delete in the Realtime Database, each shown on the LCD. Keys: 1 reads
 * /counters/<device>, 2 updates it (a compare-and-swap increment, so two devices never lose a count, plus a server
 * timestamp), 3 deletes it.
 */
class Assignment3 extends SignedInApp {
  #busy = false;

  constructor(platform: Platform, config: FirmwareConfig) {
    super("esplab A3", platform, config);
  }

  protected async ready(db: Database): Promise<void> {
    const path = `/counters/${this.config.deviceId}`;
    showLines(this.devices.display, "1 Rd 2 Upd 3 Del", "");
    this.devices.keys.onKey((key) => {
      if (this.#busy || this.stopped || !["1", "2", "3"].includes(key)) return;
      this.#busy = true;
      this.#act(db, path, key)
        .catch((error: Error) => this.fail(error))
        .finally(() => (this.#busy = false));
    });
  }

  async #act(db: Database, path: string, key: string): Promise<void> {
    const show = (line: string) => {
      showLines(this.devices.display, "1 Rd 2 Upd 3 Del", line);
      this.platform.log(line);
    };
    if (key === "1") {
      const value = (await db.get(path)) as { count?: JsonValue } | null;
      show(value ? `Read: ${String(value.count)}` : "Read: (none)");
    } else if (key === "2") {
      const result = await db.transaction(`${path}/count`, (current) => (typeof current === "number" ? current : 0) + 1);
      await db.update(path, { updatedAt: serverTimestamp() });
      show(`Updated: ${String(result.value)}`);
    } else {
      await db.remove(path);
      show("Deleted");
    }
  }
}

registerApp("assignment3", (platform, config) => new Assignment3(platform, config));
