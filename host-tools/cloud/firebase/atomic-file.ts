import fs from "node:fs";
import path from "node:path";

/** A rename or unlink is durable only once its directory is fsync'ed. */
export function syncDir(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `file` as a whole or not at all, even across a crash: temp file, fsync, rename, fsync of the directory. */
export function writeFileAtomically(file: string, text: string, mode = 0o644): void {
  const temp = `${file}.tmp`;
  const fd = fs.openSync(temp, "w", mode);
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
  syncDir(path.dirname(file));
}
