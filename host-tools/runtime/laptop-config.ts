import fs from "node:fs";
import path from "node:path";
import { UsageError } from "../../firmware/core/errors.ts";
import type { FlatConfig } from "../../firmware/apps/config.ts";

/** The config file the laptop tools read from the working directory unless told otherwise. */
export const CONFIG_FILE = "esplab.config.json";

/**
 * The firmware configuration on the laptop: the same flat keys as manifest.json's `config`, from a JSON file and then
 * the environment (`ESPLAB_DEVICE_ID=Device002` sets `device_id`), so secrets can stay out of files entirely.
 */
export function loadLaptopConfig(options: { file?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): FlatConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? path.join(options.cwd ?? process.cwd(), CONFIG_FILE);
  const values: FlatConfig = {};
  if (fs.existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (error) {
      throw new UsageError("CONFIG_FILE", `${file} is not valid JSON (${(error as Error).message}) — fix it or start from esplab.config.example.json`);
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new UsageError("CONFIG_FILE", `${file} must hold one JSON object of settings, like esplab.config.example.json`);
    }
    for (const [key, value] of Object.entries(parsed)) {
      if (key.startsWith("//")) continue;
      if (value !== null && typeof value === "object") {
        throw new UsageError("CONFIG_FILE", `${file}: "${key}" must be a string, number or boolean (settings are flat keys)`);
      }
      values[key] = value as string | number | boolean;
    }
  } else if (options.file) {
    throw new UsageError("CONFIG_FILE", `config file ${options.file} not found`);
  }
  // Firebase's own variables, as its SDKs read them, so tools and docs written for Firebase's emulators carry over.
  if (env.FIREBASE_DATABASE_EMULATOR_HOST) values.firebase_database_emulator_host = env.FIREBASE_DATABASE_EMULATOR_HOST;
  if (env.FIREBASE_AUTH_EMULATOR_HOST) values.firebase_auth_emulator_host = env.FIREBASE_AUTH_EMULATOR_HOST;
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith("ESPLAB_") && value !== undefined) values[name.slice("ESPLAB_".length).toLowerCase()] = value;
  }
  return values;
}

const SECRET = /(password|secret|token|private|key$|api_key|cert)/i;

/** The settings as lines for a terminal, with secrets masked: never print a password or a token. */
export function describeConfig(values: FlatConfig): string[] {
  return Object.keys(values)
    .sort()
    .map((key) => {
      const value = values[key];
      const shown = SECRET.test(key) && value !== "" && value !== undefined ? "••••••" : JSON.stringify(value);
      return `${key} = ${shown}`;
    });
}
