import { query } from "../net/firebase/query.ts";
import type { Database } from "../net/firebase/rtdb.ts";
import { serverTimestamp } from "../net/firebase/values.ts";
import type { Platform } from "../ports/index.ts";
import type { FirmwareConfig } from "./config.ts";
import { showLines } from "./devices.ts";
import { registerApp } from "./index.ts";
import { SignedInApp } from "./signed-in-app.ts";

/**
 * Assignment 5: send several readings, then query them back ordered by a chosen child and filtered to the values
 * that start with a chosen prefix, and show the results in that order.
 * Settings: query_order_by (default "name"), query_prefix (default "kitchen"), readings_count (default 6).
 * Readings go to /sensors/<device>/<pushId> = { name, value, ts }, named after rooms in turn. Press # to send a new
 * batch and query again; the LCD steps through the results, one per second.
 */
const ROOMS = Object.freeze(["kitchen", "garage", "kitchen-2", "hall", "kitchenette", "attic"]);

class Assignment5 extends SignedInApp {
  constructor(platform: Platform, config: FirmwareConfig) {
    super("esplab A5", platform, config);
  }

  protected async ready(db: Database): Promise<void> {
    await this.#round(db);
    this.devices.keys.onKey((key) => {
      if (key === "#" && !this.stopped) void this.#round(db).catch((error: Error) => this.fail(error));
    });
  }

  async #round(db: Database): Promise<void> {
    const path = `/sensors/${this.config.deviceId}`;
    const orderBy = String(this.config.values.query_order_by ?? "name");
    const prefix = String(this.config.values.query_prefix ?? "kitchen");
    const count = Number(this.config.values.readings_count ?? 6);
    for (let i = 0; i < count && !this.stopped; i++) {
      const reading = this.devices.range.read();
      const value = reading.cm !== undefined ? Math.round(reading.cm) : reading.obstacle ? 1 : 0;
      await db.push(path, { name: ROOMS[i % ROOMS.length]!, value, ts: serverTimestamp() });
      showLines(this.devices.display, `Sent ${i + 1}/${count}`, "");
    }
    const results = await db.query(path, query().orderByChild(orderBy).startsWith(prefix));
    if (this.stopped) return;
    this.platform.log(`query orderBy ${orderBy} startsWith "${prefix}": ${results.length} results`);
    results.forEach(([key, value], index) => this.platform.log(`  ${index + 1}. ${key} ${JSON.stringify(value)}`));
    showLines(this.devices.display, `${results.length} "${prefix}"`, "");
    for (let i = 0; i < results.length && !this.stopped; i++) {
      await this.wait(1000);
      const item = results[i]![1] as { name?: unknown; value?: unknown };
      showLines(this.devices.display, `${i + 1}/${results.length} ${String(item.name)}`, `value ${String(item.value)}`);
    }
  }
}

registerApp("assignment5", (platform, config) => new Assignment5(platform, config));
