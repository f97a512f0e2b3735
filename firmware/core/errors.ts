/**
 * The base of every error esplab raises on purpose. `code` is stable for programs; the message is for people and
 * says what was expected, what happened and what to do next.
 */
export class EsplabError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    // Defined, not assigned: Moddable's linker freezes Error.prototype, and assigning an own `name` over a frozen
    // inherited one throws (the override mistake).
    Object.defineProperty(this, "name", { value: new.target.name, writable: true, configurable: true });
  }
}

/** A connection could not be made or broke. */
export class TransportError extends EsplabError {}

/** Something outside (a server, a broker, a chip) sent bytes that break its protocol. */
export class ProtocolError extends EsplabError {}

/** The caller asked for something invalid; nothing was sent or changed. */
export class UsageError extends EsplabError {}

/** An operation did not finish in time. */
export class TimeoutError extends EsplabError {}
