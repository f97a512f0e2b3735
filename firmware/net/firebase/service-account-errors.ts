import { EsplabError } from "../../core/errors.ts";

/**
 * The OAuth token endpoint refused a service account's JWT, or the credential cannot make one. `oauthCode` is the
 * endpoint's `error` (invalid_grant, invalid_scope, …) or one of esplab's own (CLOCK_NOT_SET); the message says what
 * to do. Google's `error_description` is kept as `serverMessage`.
 */
export class ServiceAccountError extends EsplabError {
  readonly oauthCode: string;
  readonly status: number;
  readonly serverMessage: string;
  constructor(oauthCode: string, status: number, message: string, serverMessage = "") {
    super(`SERVICE_ACCOUNT_${oauthCode.toUpperCase()}`, message);
    this.oauthCode = oauthCode;
    this.status = status;
    this.serverMessage = serverMessage;
  }
  /** Sending the same key again cannot succeed (as opposed to a network failure, a 5xx or an unset clock). */
  get permanent(): boolean {
    return this.status >= 400 && this.status < 500 && this.oauthCode !== "CLOCK_SKEW";
  }
}

const NEW_KEY =
  "make a new key (Firebase console → Project settings → Service accounts → Generate new private key; for the local cloud, npx esplab cloud service-account create NAME) and give the device that file's client_email and private_key";

/**
 * The error for a refused token request. Google answers every JWT problem as `invalid_grant` and tells them apart only
 * in `error_description`, so the advice is chosen by that text (the descriptions Google's own client libraries report).
 */
export function serviceAccountErrorFor(status: number, body: unknown, context: { clientEmail: string; audience: string; iat: number }): ServiceAccountError {
  const fields = body && typeof body === "object" ? (body as Record<string, unknown>) : {};
  const code = typeof fields.error === "string" ? fields.error : `HTTP_${status}`;
  const description = typeof fields.error_description === "string" ? fields.error_description : "";
  const said = description ? ` (server said ${JSON.stringify(description)})` : "";
  const start = `getting an access token for ${context.clientEmail} failed`;
  let advice: string;
  let oauthCode = code;
  if (code === "invalid_grant" && /signature/i.test(description)) {
    advice = `${start}: the token endpoint does not accept this key — it was deleted or disabled, or this private_key is not ${context.clientEmail}'s: ${NEW_KEY}`;
  } else if (code === "invalid_grant" && /account not found|invalid email|not a valid email|user id/i.test(description)) {
    advice = `${start}: no service account ${context.clientEmail} exists in this project (deleted, or the client_email is mistyped): check client_email against the key file, or ${NEW_KEY}`;
  } else if (code === "invalid_grant" && /audience/i.test(description)) {
    advice = `${start}: the JWT's audience ${JSON.stringify(context.audience)} is not this token endpoint: set token_uri to the key file's token_uri (https://oauth2.googleapis.com/token for Google)`;
  } else if (code === "invalid_grant" && /short-lived|timeframe|iat|exp/i.test(description)) {
    oauthCode = "CLOCK_SKEW";
    advice = `${start}: the server finds the JWT's times (iat ${context.iat}, ${new Date(context.iat * 1000).toISOString()}) outside its window — the device's clock is wrong: set it by SNTP before connecting, then retry`;
  } else if (code === "invalid_scope") {
    advice = `${start}: the token endpoint refused the requested scopes: ask for https://www.googleapis.com/auth/firebase.database and https://www.googleapis.com/auth/userinfo.email`;
  } else if (code === "unsupported_grant_type" || code === "invalid_request") {
    advice = `${start}: the token endpoint did not understand the request — is token_uri really Google's OAuth token endpoint (https://oauth2.googleapis.com/token)?`;
  } else if (code === "invalid_client" || code === "unauthorized_client" || code === "disabled_client") {
    advice = `${start}: the service account or its key is disabled: enable it (Google Cloud console → IAM → Service accounts), or ${NEW_KEY}`;
  } else if (status >= 500) {
    advice = `${start} with HTTP ${status}: the token endpoint is having trouble; the client will retry`;
  } else {
    advice = `${start} with HTTP ${status}${code.startsWith("HTTP_") ? "" : `: ${code}`}; check token_uri and the key`;
  }
  return new ServiceAccountError(oauthCode, status, `${advice}${said}`, description);
}
