/**
 * Small key-value storage that survives a reboot: Moddable's Preference (ESP32 NVS) on the device, a file on the
 * laptop. NVS limits apply everywhere so code that works here works there: domain and key at most 15 characters,
 * a value at most 4000 bytes.
 */
export type StorageValue = string | number | boolean | ArrayBuffer;

export interface Storage {
  get(domain: string, key: string): StorageValue | undefined;
  /** Durable when it returns. */
  set(domain: string, key: string, value: StorageValue): void;
  delete(domain: string, key: string): void;
  keys(domain: string): string[];
}

export const STORAGE_NAME_LIMIT = 15;
export const STORAGE_VALUE_LIMIT = 4000;
