import type { FlatConfig } from "../../firmware/apps/config.ts";
import type { LocalCloud } from "./index.ts";

/** The local cloud's demo user signed in, as `esplab firebase-token` would do on the laptop. */
export async function demoUserTokens(cloud: LocalCloud): Promise<{ idToken: string; refreshToken: string }> {
  const response = await fetch(`${cloud.firebase.authUrl}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=${cloud.firmwareConfig.firebase_api_key}`, {
    method: "POST",
    body: JSON.stringify({ email: cloud.demoUser.email, password: cloud.demoUser.password, returnSecureToken: true }),
  });
  if (!response.ok) throw new Error(`the local cloud refused the demo user's sign-in (HTTP ${response.status}): ${await response.text()}`);
  return (await response.json()) as { idToken: string; refreshToken: string };
}

const isPlaceholder = (value: unknown) => typeof value === "string" && value.startsWith("{{demo.");

function fillPlaceholders(config: FlatConfig, tokens: { idToken: string; refreshToken: string }): FlatConfig {
  const filled: FlatConfig = { ...config };
  for (const [key, value] of Object.entries(filled)) {
    if (value === "{{demo.refreshToken}}") filled[key] = tokens.refreshToken;
    else if (value === "{{demo.idToken}}") filled[key] = tokens.idToken;
  }
  return filled;
}

/**
 * A scenario may ask for the demo user's tokens with the value "{{demo.refreshToken}}" or "{{demo.idToken}}"
 * (Assignment 4's ID-token mode): the user is signed in on the laptop and the placeholders are filled in.
 */
export async function withDemoPlaceholders(cloud: LocalCloud, config: FlatConfig): Promise<FlatConfig> {
  if (!Object.values(config).some(isPlaceholder)) return config;
  return fillPlaceholders(config, await demoUserTokens(cloud));
}

/**
 * Assignment 4 signs in with tokens instead of a password. Against the local cloud, with no token of the user's own,
 * the demo user's tokens are filled in (and so are the placeholders above), so the app starts without a trip to
 * `esplab firebase-token`.
 */
export async function withDemoTokens(cloud: LocalCloud, config: FlatConfig): Promise<FlatConfig> {
  const local = config.firebase_auth_emulator_host === cloud.firmwareConfig.firebase_auth_emulator_host;
  const wanted = local && config.app === "assignment4" && !config.firebase_refresh_token;
  if (!wanted) return withDemoPlaceholders(cloud, config);
  const tokens = await demoUserTokens(cloud);
  return fillPlaceholders({ ...config, firebase_refresh_token: tokens.refreshToken, firebase_id_token: tokens.idToken }, tokens);
}
