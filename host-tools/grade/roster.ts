import fs from "node:fs";
import path from "node:path";
import { UsageError } from "../../firmware/core/errors.ts";

/** The roster is wrong: the message names the file, the line and the fix. */
export class RosterError extends UsageError {}

/** One student: a name for the report, and their project's folder. */
export interface Student {
  name: string;
  dir: string;
}

/** The most a roster file may hold; a class is far smaller, and a bigger file is surely something else. */
const MAX_ROSTER_BYTES = 1 << 20;

/**
 * A class: a folder whose sub-folders are student projects (each named by its folder), or a CSV file of
 * `name,path` rows (paths relative to the CSV; a header row naming them is allowed; already cloned).
 */
export function readRoster(source: string): Student[] {
  if (!fs.existsSync(source)) throw new RosterError("ROSTER", `no roster ${source}: give a folder of student projects or a CSV of name,path rows`);
  const students = fs.statSync(source).isDirectory() ? rosterFolder(source) : rosterCsv(source);
  if (students.length === 0) throw new RosterError("ROSTER", `the roster ${source} names no student`);
  const seen = new Set<string>();
  for (const student of students) {
    if (seen.has(student.name)) throw new RosterError("ROSTER", `${source}: "${student.name}" appears twice — each student once`);
    seen.add(student.name);
  }
  return students;
}

function rosterFolder(folder: string): Student[] {
  return fs
    .readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith("."))
    .map((entry) => entry.name)
    .sort()
    .map((name) => ({ name, dir: path.resolve(folder, name) }));
}

function rosterCsv(file: string): Student[] {
  const bytes = fs.statSync(file).size;
  if (bytes > MAX_ROSTER_BYTES) throw new RosterError("ROSTER", `${file} is ${bytes} bytes: a roster is at most ${MAX_ROSTER_BYTES} (a CSV of name,path rows)`);
  const rows = parseCsv(fs.readFileSync(file, "utf8"), file);
  if (rows.length && rows[0]!.row.map((cell) => cell.trim().toLowerCase()).join(",") === "name,path") rows.shift();
  return rows.map(({ row, line }) => {
    const [name, dir, ...rest] = row.map((cell) => cell.trim());
    if (!name || !dir || rest.some((cell) => cell !== "")) {
      throw new RosterError("ROSTER", `${file}:${line}: a row is name,path (got ${row.length} field${row.length === 1 ? "" : "s"}) — e.g. ada,projects/ada`);
    }
    return { name, dir: path.resolve(path.dirname(file), dir) };
  });
}

/**
 * RFC 4180 CSV: fields separated by commas, rows by CRLF or LF, quoted fields with "" for a quote; blank lines are
 * skipped. One pass over the text; a quote left open is an error naming the line it opened on.
 */
export function parseCsv(text: string, file = "roster.csv"): { row: string[]; line: number }[] {
  const rows: { row: string[]; line: number }[] = [];
  let row: string[] = [];
  let field = "";
  let line = 1;
  let rowLine = 1;
  let quoted = false;
  let quoteLine = 0;
  let touched = false; // the row has a field (so an empty line is not a row)
  const endRow = () => {
    if (touched || field !== "") {
      row.push(field);
      rows.push({ row, line: rowLine });
    }
    row = [];
    field = "";
    touched = false;
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (char === "\n") line++;
        field += char;
      }
      continue;
    }
    if (char === '"' && field === "") {
      quoted = true;
      quoteLine = line;
      touched = true;
    } else if (char === ",") {
      row.push(field);
      field = "";
      touched = true;
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && text[i + 1] === "\n") i++;
      endRow();
      line++;
      rowLine = line;
    } else field += char;
  }
  if (quoted) throw new RosterError("ROSTER", `${file}:${quoteLine}: a quoted field is never closed — end it with "`);
  endRow();
  return rows;
}
