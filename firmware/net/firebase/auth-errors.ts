import { EsplabError } from "../../core/errors.ts";

/** A Firebase Auth failure: `authCode` is Google's code (EMAIL_NOT_FOUND, …), the message says what to do. */
export class FirebaseAuthError extends EsplabError {
  readonly authCode: string;
  readonly status: number;
  constructor(authCode: string, status: number, message: string, options?: { cause?: unknown }) {
    super(`AUTH_${authCode}`, message, options);
    this.authCode = authCode;
    this.status = status;
  }
  /** The credentials themselves are bad: repeating the same call cannot succeed. */
  get permanent(): boolean {
    return PERMANENT.has(this.authCode);
  }
}

const ADVICE: Record<string, string> = Object.freeze({
  EMAIL_NOT_FOUND: "no user has this email address: check the spelling, or create the user in the Firebase console (Authentication → Users)",
  INVALID_PASSWORD: "the password is wrong for this email: check it, or reset it in the Firebase console",
  INVALID_LOGIN_CREDENTIALS: "the email or the password is wrong (projects with email enumeration protection do not say which): check both",
  USER_DISABLED: "this user account has been disabled by an administrator: enable it in the Firebase console (Authentication → Users)",
  USER_NOT_FOUND: "the user behind this token no longer exists (deleted?): sign in again or create the user",
  INVALID_CUSTOM_TOKEN: "the custom token is malformed, expired (they live 1 hour) or for another audience: mint a fresh one with the Admin SDK",
  CREDENTIAL_MISMATCH: "the custom token was signed for a different Firebase project than this API key's: use the same project for both",
  TOKEN_EXPIRED: "the user's credential is no longer valid (password changed or tokens revoked): sign in again",
  INVALID_REFRESH_TOKEN: "the refresh token is invalid or revoked: sign in again, or provision a fresh refresh token to the device",
  MISSING_REFRESH_TOKEN: "no refresh token was sent: provision one (ID-token mode needs both the ID token and the refresh token)",
  INVALID_ID_TOKEN: "the ID token is invalid or expired: sign in again",
  INVALID_GRANT_TYPE: "the token endpoint rejected the grant type: this is a client bug, report it",
  TOO_MANY_ATTEMPTS_TRY_LATER: "Firebase is rate-limiting this client after too many attempts: wait a few minutes before trying again",
  INVALID_API_KEY: "the API key is not valid: copy the Web API key from Firebase console → Project settings → General",
  API_KEY_INVALID: "the API key is not valid: copy the Web API key from Firebase console → Project settings → General",
  PROJECT_NOT_FOUND: "no Firebase project belongs to this API key: check the key and the project",
  OPERATION_NOT_ALLOWED: "this sign-in method is disabled for the project: enable it in Firebase console → Authentication → Sign-in method",
  ADMIN_ONLY_OPERATION: "the project does not allow this sign-in from clients (anonymous sign-in disabled?): enable it in Authentication → Sign-in method",
  INVALID_EMAIL: "the email address is badly formatted: check it",
  MISSING_PASSWORD: "no password was given: pass the user's password",
  WEAK_PASSWORD: "the password is too weak (at least 6 characters): choose a longer one",
  EMAIL_EXISTS: "a user with this email already exists: sign in instead of signing up",
});

const PERMANENT = new Set([
  "EMAIL_NOT_FOUND",
  "INVALID_PASSWORD",
  "INVALID_LOGIN_CREDENTIALS",
  "USER_DISABLED",
  "USER_NOT_FOUND",
  "INVALID_CUSTOM_TOKEN",
  "CREDENTIAL_MISMATCH",
  "TOKEN_EXPIRED",
  "INVALID_REFRESH_TOKEN",
  "MISSING_REFRESH_TOKEN",
  "INVALID_API_KEY",
  "API_KEY_INVALID",
  "PROJECT_NOT_FOUND",
  "OPERATION_NOT_ALLOWED",
  "ADMIN_ONLY_OPERATION",
  "INVALID_EMAIL",
  "MISSING_PASSWORD",
]);

/** The stable code from Google's message: the text up to the first space or colon ("WEAK_PASSWORD : …"). */
export function authCodeOf(message: string): string {
  if (/API key not valid/i.test(message)) return "INVALID_API_KEY";
  const match = /^[A-Z0-9_]+/.exec(message.trim());
  return match ? match[0] : "UNKNOWN";
}

/** The error for a failed Auth call: `action` is what was being done ("signing in with email and password"). */
export function authErrorFor(action: string, status: number, serverMessage: string): FirebaseAuthError {
  const code = authCodeOf(serverMessage);
  const advice = ADVICE[code];
  const detail = serverMessage && serverMessage !== code ? ` (server said ${JSON.stringify(serverMessage)})` : "";
  const text = advice
    ? `${action} failed: ${code}: ${advice}${code === "INVALID_API_KEY" ? "" : detail}`
    : `${action} failed with HTTP ${status}${serverMessage ? `: ${serverMessage}` : ""}` +
      (status >= 500 ? "; Firebase Auth is having trouble, the client will retry" : "");
  return new FirebaseAuthError(code === "UNKNOWN" ? `HTTP_${status}` : code, status, text);
}
