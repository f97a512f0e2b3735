import { TransportError } from "../../../firmware/core/errors.ts";

/** The two modem-control lines USB-UART boards wire to EN (DTR) and IO0 (RTS) through a transistor pair. */
export interface ControlLines {
  dtr: boolean;
  rts: boolean;
}

/**
 * A byte pipe to a chip: a USB serial port, a pseudo-terminal or a TCP socket (`socket://host:port`).
 * Everything above it (SLIP, the loader, the monitor) only sees this interface.
 */
export interface ByteLink {
  /** What the user typed to name it: "/dev/ttyUSB0", "socket://127.0.0.1:5555". */
  readonly name: string;
  /** The current baud rate (a socket link remembers it so a simulator on the other end can be told). */
  readonly baud: number;
  /**
   * Whether DTR/RTS can be driven. False for sockets and pseudo-terminals (setting them fails with
   * "Inappropriate ioctl for device"); reset strategies then skip the line wiggling and say so.
   */
  readonly hasControlLines: boolean;
  /** Resolves once the bytes are handed to the operating system. */
  write(bytes: Uint8Array): Promise<void>;
  /** Registers a listener for incoming bytes; returns a function that removes it. */
  onData(listener: (bytes: Uint8Array) => void): () => void;
  /** Called once when the link closes, with the error if it broke (unplugged, connection reset). */
  onClose(listener: (error?: Error) => void): () => void;
  /** Sets both lines in one call (esptool's "tight" reset needs that). Returns false when the link has no lines. */
  setLines(lines: ControlLines): Promise<boolean>;
  setBaud(baud: number): Promise<void>;
  close(): Promise<void>;
}

/** A link could not be opened or broke; the message names the port and the fix. */
export class LinkError extends TransportError {}
