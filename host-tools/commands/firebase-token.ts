import readline from "node:readline";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { loadLaptopConfig } from "../runtime/laptop-config.ts";

const USAGE = `usage: esplab firebase-token --email USER [--api-key KEY] [--auth-emulator-host HOST:PORT]

Signs a user in on the laptop and prints an ID token and a refresh token for a device's ID-token mode
(Assignment 4: firebase_refresh_token, firebase_id_token), so the device never holds the password. The password is
read from ESPLAB_FIREBASE_PASSWORD or asked for (not echoed). Defaults come from esplab.config.json / ESPLAB_*.
Treat the printed refresh token like a password: put it in the device's config, not in a repository.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { email: { type: "string" }, "api-key": { type: "string" }, "auth-emulator-host": { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const config = loadLaptopConfig();
  const email = values.email ?? (config.firebase_email as string | undefined);
  const apiKey = values["api-key"] ?? (config.firebase_api_key as string | undefined) ?? "local-emulator-key";
  const emulator = values["auth-emulator-host"] ?? (config.firebase_auth_emulator_host as string | undefined) ?? process.env.FIREBASE_AUTH_EMULATOR_HOST;
  if (!email) throw new UsageError("ARGS", "give the user's --email (or firebase_email in esplab.config.json)");
  const password = process.env.ESPLAB_FIREBASE_PASSWORD ?? (await askHidden(`password for ${email}: `));
  const base = emulator ? `http://${emulator}/identitytoolkit.googleapis.com/v1` : "https://identitytoolkit.googleapis.com/v1";
  const response = await fetch(`${base}/accounts:signInWithPassword?key=${encodeURIComponent(apiKey)}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password, returnSecureToken: true }),
  }).catch((error: Error) => {
    throw new UsageError("AUTH", `cannot reach Firebase Auth at ${base}: ${error.message}${emulator ? " — is esplab cloud running?" : ""}`);
  });
  const body = (await response.json()) as { idToken?: string; refreshToken?: string; expiresIn?: string; error?: { message: string } };
  if (!response.ok || !body.refreshToken) throw new UsageError("AUTH", `sign-in failed: ${body.error?.message ?? response.status}`);
  console.log(`firebase_refresh_token=${body.refreshToken}`);
  console.log(`firebase_id_token=${body.idToken}`);
  console.error(`(the ID token expires in ${body.expiresIn} s; the device refreshes it with the refresh token)`);
  return 0;
}

function askHidden(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError("ARGS", "no terminal to ask the password on: set ESPLAB_FIREBASE_PASSWORD");
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput;
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (text: string) => write.call(rl, text.startsWith(prompt) ? prompt : "");
    rl.question(prompt, (answer) => {
      rl.close();
      process.stdout.write("\n");
      resolve(answer);
    });
  });
}
