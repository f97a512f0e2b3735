/**
 * What the telemetry app accepts on its command topics, as pure functions (no IO), so every payload a broker can
 * deliver has a defined answer.
 */
export type CommandResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** `cmd/<id>/servo`: a bare number ("90") or {"angle": 90}; whole or fractional degrees from 0 to 180. */
export function parseServoCommand(payload: string): CommandResult<number> {
  const text = payload.trim();
  let angle: unknown = Number.NaN;
  if (/^-?\d+(\.\d+)?$/.test(text)) {
    angle = Number(text);
  } else if (text.startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) angle = (parsed as { angle?: unknown }).angle;
    } catch {
      return { ok: false, error: `not JSON: ${preview(text)}` };
    }
  } else {
    return { ok: false, error: `expected an angle like 90 or {"angle":90}, got ${preview(text)}` };
  }
  if (typeof angle !== "number" || !Number.isFinite(angle)) return { ok: false, error: `"angle" must be a number, got ${preview(JSON.stringify(angle) ?? "nothing")}` };
  if (angle < 0 || angle > 180) return { ok: false, error: `angle ${angle} is outside 0–180 degrees` };
  return { ok: true, value: angle };
}

/** `cmd/<id>/lcd`: up to two lines of 16 characters, split at "\n" or wrapped; the LCD's ASCII only. */
export function lcdLinesFor(payload: string, columns = 16): CommandResult<[string, string]> {
  const printable = [...payload.replace(/\r/g, "")].map((c) => (c === "\n" || (c >= " " && c <= "~") ? c : "?")).join("");
  const parts = printable.includes("\n") ? printable.split("\n") : [printable.slice(0, columns), printable.slice(columns)];
  if (parts.length > 2 || parts.some((line) => line.length > columns)) {
    return { ok: false, error: `the LCD shows 2 lines of ${columns} characters; got ${preview(payload)}` };
  }
  return { ok: true, value: [parts[0] ?? "", parts[1] ?? ""] };
}

function preview(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
