import http from "node:http";
import type { AddressInfo } from "node:net";

/** A small stand-in for the Auth REST endpoints at the emulator's paths, with scripted failures. */
export class FakeAuthServer {
  readonly users = new Map<string, { password: string; uid: string; disabled?: boolean }>();
  readonly refreshTokens = new Map<string, string>(); // token → uid
  lifetimeSec = 3600;
  /** Wall-clock seconds the server stamps into tokens. */
  nowSec = () => Math.floor(Date.now() / 1000);
  refreshes = 0;
  /** When set, the next responses are this status and raw body. */
  failNext: Array<{ status: number; body: string; contentType?: string }> = [];
  readonly #server = http.createServer((req, res) => this.#handle(req, res));
  #next = 1;

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }
  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  idToken(uid: string): string {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const iat = this.nowSec();
    return `${part({ alg: "none", typ: "JWT" })}.${part({ user_id: uid, sub: uid, iat, exp: iat + this.lifetimeSec, n: this.#next++ })}.`;
  }

  #issue(uid: string) {
    const refreshToken = `rt-${uid}-${this.#next++}-${"x".repeat(280)}`;
    this.refreshTokens.set(refreshToken, uid);
    return { idToken: this.idToken(uid), refreshToken, expiresIn: String(this.lifetimeSec), localId: uid };
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const fail = this.failNext.shift();
      if (fail) {
        res.writeHead(fail.status, { "Content-Type": fail.contentType ?? "application/json" }).end(fail.body);
        return;
      }
      const url = new URL(req.url!, "http://x");
      const error = (message: string) => res.writeHead(400, { "Content-Type": "application/json" }).end(JSON.stringify({ error: { code: 400, message } }));
      const ok = (value: object) => res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(value));
      if (url.searchParams.get("key") !== "test-key") return error("API key not valid. Please pass a valid API key.");
      switch (url.pathname) {
        case "/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword": {
          const { email, password } = JSON.parse(body);
          const user = this.users.get(email);
          if (!user) return error("EMAIL_NOT_FOUND");
          if (user.password !== password) return error("INVALID_PASSWORD");
          if (user.disabled) return error("USER_DISABLED : The user account has been disabled by an administrator.");
          return ok(this.#issue(user.uid));
        }
        case "/identitytoolkit.googleapis.com/v1/accounts:signUp":
          return ok(this.#issue(`anon${this.#next++}`));
        case "/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken": {
          const { token } = JSON.parse(body);
          if (!String(token).startsWith("custom:")) return error("INVALID_CUSTOM_TOKEN");
          return ok(this.#issue(String(token).slice(7)));
        }
        case "/securetoken.googleapis.com/v1/token": {
          const form = new URLSearchParams(body);
          if (form.get("grant_type") !== "refresh_token") return error("INVALID_GRANT_TYPE");
          const uid = this.refreshTokens.get(form.get("refresh_token") ?? "");
          if (!uid) return error("INVALID_REFRESH_TOKEN");
          this.refreshes++;
          const issued = this.#issue(uid);
          return ok({ id_token: issued.idToken, refresh_token: issued.refreshToken, expires_in: issued.expiresIn, user_id: uid, token_type: "Bearer" });
        }
        default:
          res.writeHead(404, { "Content-Type": "text/html" }).end("<html><title>404 Not Found</title></html>");
      }
    });
  }
}
