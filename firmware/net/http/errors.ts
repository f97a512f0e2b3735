import { EsplabError, ProtocolError } from "../../core/errors.ts";

/** A server answered with a status the caller did not accept. `serverMessage` is what the server said, if anything. */
export class HttpError extends EsplabError {
  readonly status: number;
  readonly serverMessage: string;
  constructor(status: number, message: string, serverMessage: string, options?: { cause?: unknown }) {
    super(`HTTP_${status}`, message, options);
    this.status = status;
    this.serverMessage = serverMessage;
  }
}

/** The bytes from a server break HTTP/1.1 (or exceed a bound this client keeps to protect the device's RAM). */
export class HttpProtocolError extends ProtocolError {}

/** Shows the first bytes of something a server sent, printable, for error messages. */
export function preview(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const cut = flat.length > max ? `${flat.slice(0, max)}…` : flat;
  return JSON.stringify(cut);
}
