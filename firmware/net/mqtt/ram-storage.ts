/** Storage kept in RAM, with NVS's limits: what the client queues in when no persistent Storage is handed to it. */
import { MqttUsageError } from "./errors.ts";
import { STORAGE_NAME_LIMIT, STORAGE_VALUE_LIMIT, type Storage, type StorageValue } from "../../ports/storage.ts";

export class RamStorage implements Storage {
  readonly #domains = new Map<string, Map<string, StorageValue>>();

  get(domain: string, key: string): StorageValue | undefined {
    return this.#domains.get(domain)?.get(key);
  }

  set(domain: string, key: string, value: StorageValue): void {
    if (domain.length > STORAGE_NAME_LIMIT || key.length > STORAGE_NAME_LIMIT) {
      throw new MqttUsageError("STORAGE_NAME", `storage names are at most ${STORAGE_NAME_LIMIT} characters: ${domain}/${key}`);
    }
    if (value instanceof ArrayBuffer && value.byteLength > STORAGE_VALUE_LIMIT) {
      throw new MqttUsageError("STORAGE_VALUE", `storage values are at most ${STORAGE_VALUE_LIMIT} bytes; ${domain}/${key} has ${value.byteLength}`);
    }
    let entries = this.#domains.get(domain);
    if (!entries) this.#domains.set(domain, (entries = new Map()));
    entries.set(key, value);
  }

  delete(domain: string, key: string): void {
    this.#domains.get(domain)?.delete(key);
  }

  keys(domain: string): string[] {
    return [...(this.#domains.get(domain)?.keys() ?? [])];
  }
}
