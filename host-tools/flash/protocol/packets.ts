import { ProtocolError } from "../../../firmware/core/errors.ts";

/** A host → chip command, before SLIP framing: direction 0x00, op, u16 length, u32 checksum, data. */
export interface Request {
  op: number;
  checksum: number;
  data: Uint8Array;
}

/** A chip → host response: direction 0x01, op, u16 length, u32 value, data (ending in status bytes). */
export interface Response {
  op: number;
  value: number;
  data: Uint8Array;
}

const HEADER = 8;

export function encodeRequest(request: Request): Uint8Array {
  return encodePacket(0x00, request.op, request.checksum, request.data);
}

export function encodeResponse(response: Response): Uint8Array {
  return encodePacket(0x01, response.op, response.value, response.data);
}

function encodePacket(direction: number, op: number, word: number, data: Uint8Array): Uint8Array {
  const packet = new Uint8Array(HEADER + data.length);
  const view = new DataView(packet.buffer);
  packet[0] = direction;
  packet[1] = op;
  view.setUint16(2, data.length, true);
  view.setUint32(4, word >>> 0, true);
  packet.set(data, HEADER);
  return packet;
}

export function decodeRequest(frame: Uint8Array): Request {
  const { word, data, op } = decodePacket(frame, 0x00, "request");
  return { op, checksum: word, data };
}

export function decodeResponse(frame: Uint8Array): Response {
  const { word, data, op } = decodePacket(frame, 0x01, "response");
  return { op, value: word, data };
}

function decodePacket(frame: Uint8Array, direction: number, what: string): { op: number; word: number; data: Uint8Array } {
  if (frame.length < HEADER) throw new ProtocolError("short-packet", `${what} of ${frame.length} bytes is shorter than its 8-byte header`);
  if (frame[0] !== direction) throw new ProtocolError("bad-direction", `${what} starts with 0x${frame[0]!.toString(16)}, expected 0x0${direction}`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const length = view.getUint16(2, true);
  if (length !== frame.length - HEADER) {
    throw new ProtocolError("bad-length", `${what} announces ${length} data bytes but carries ${frame.length - HEADER}`);
  }
  return { op: frame[1]!, word: view.getUint32(4, true), data: frame.subarray(HEADER) };
}

/** Little-endian u32 words, the shape of every command's parameters. */
export function words(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((value, i) => view.setUint32(i * 4, value >>> 0, true));
  return out;
}

/** Reads the little-endian u32 at `index` (in words) or throws a ProtocolError naming the command. */
export function wordAt(data: Uint8Array, index: number, what: string): number {
  if (data.length < (index + 1) * 4) throw new ProtocolError("short-packet", `${what} needs at least ${(index + 1) * 4} bytes, got ${data.length}`);
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(index * 4, true);
}
