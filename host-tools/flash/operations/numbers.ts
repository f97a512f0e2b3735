import { UsageError } from "../../../firmware/core/errors.ts";

/** Parses an address or size as esptool accepts them: 0x1000, 4096, 64k, 4M. */
export function parseAmount(text: string | undefined, what: string): number {
  const match = /^(0x[0-9a-f]+|\d+)([kKmM]?)$/i.exec(text?.trim() ?? "");
  if (!match) throw new UsageError("bad-number", `${what} "${text ?? ""}" is not a number; write it as 0x10000, 65536, 64k or 4M`);
  const base = Number(match[1]);
  const unit = match[2]!.toLowerCase();
  return base * (unit === "k" ? 1024 : unit === "m" ? 1024 * 1024 : 1);
}

export const hex = (n: number) => `0x${n.toString(16).padStart(5, "0")}`;
