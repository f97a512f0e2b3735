import Preference from "preference";
import type { Storage } from "../../ports/storage.ts";

/** The Storage seam on Moddable: Preference, which is NVS on the ESP32 (durable when `set` returns). */
export const preferenceStorage: Storage = Object.freeze({
  get: (domain, key) => Preference.get(domain, key),
  set: (domain, key, value) => Preference.set(domain, key, value),
  delete: (domain, key) => Preference.delete(domain, key),
  keys: (domain) => Preference.keys(domain),
});
