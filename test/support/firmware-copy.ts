import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ESPLAB = path.resolve(import.meta.dirname, "../..");

/**
 * A temporary tree with a copy of esplab's firmware/ (and esplab's node_modules linked in for the typings), for tests
 * that edit firmware sources: the repository's own files are never touched. Remove it with `remove()`.
 */
export function copyFirmware(): { root: string; file(relative: string): string; edit(relative: string, change: (text: string) => string): void; remove(): void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-firmware-"));
  fs.cpSync(path.join(ESPLAB, "firmware"), path.join(root, "firmware"), { recursive: true, filter: (source) => !source.includes(`${path.sep}.portability-probe`) });
  fs.symlinkSync(path.join(ESPLAB, "node_modules"), path.join(root, "node_modules"), "dir");
  const file = (relative: string) => path.join(root, "firmware", relative);
  return {
    root,
    file,
    edit(relative, change) {
      fs.writeFileSync(file(relative), change(fs.readFileSync(file(relative), "utf8")));
    },
    remove: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}
