import fs from "node:fs";
import path from "node:path";

/** Folders never worth watching for firmware sources (nor are hidden ones). */
const SKIPPED = new Set(["node_modules", "dist"]);

/**
 * Calls `onChange` once a burst of edits to `.ts` files under `directories` has settled (editors write a file several
 * times per save). Calls never overlap: a change during a reload queues one more reload. Returns a stop function.
 *
 * Each folder is watched by itself, never a file: a save by rename (vim, JetBrains' safe write, `sed -i`) replaces
 * the file's inode, which a watch on the file would lose, while the folder's watch sees the new name arrive. Folders
 * created later are watched as they appear.
 */
export function watchSources(directories: string[], onChange: () => Promise<void>, debounceMs = 300): () => void {
  const watchers = new Map<string, fs.FSWatcher>();
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();
  let stopped = false;

  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      running = running.then(() => (stopped ? undefined : onChange())).catch(() => undefined);
    }, debounceMs);
  };

  const watchTree = (directory: string): void => {
    if (stopped || watchers.has(directory)) return;
    let watcher: fs.FSWatcher;
    try {
      watcher = fs.watch(directory, (_event, name) => {
        if (!name) return changed();
        const file = path.join(directory, name.toString());
        if (file.endsWith(".ts")) changed();
        if (!watched(name.toString())) return;
        if (isDirectory(file)) {
          if (!watchers.has(file)) {
            watchTree(file);
            if (containsSources(file)) changed();
          }
        } else if (watchers.has(file)) {
          forget(file); // removed or moved away: a folder made again at this path is watched anew
          changed();
        }
      });
    } catch {
      return; // gone before it could be watched
    }
    watcher.on("error", () => forget(directory));
    watchers.set(directory, watcher);
    for (const entry of readDirectory(directory)) {
      if (entry.isDirectory() && watched(entry.name)) watchTree(path.join(directory, entry.name));
    }
  };

  const forget = (directory: string): void => {
    for (const [folder, watcher] of watchers) {
      if (folder !== directory && !folder.startsWith(directory + path.sep)) continue;
      watcher.close();
      watchers.delete(folder);
    }
  };

  for (const directory of directories) watchTree(path.resolve(directory));
  return () => {
    stopped = true;
    clearTimeout(timer);
    for (const directory of [...watchers.keys()]) forget(directory);
  };
}

function watched(name: string): boolean {
  return !SKIPPED.has(name) && !name.startsWith(".");
}

function isDirectory(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}

function readDirectory(directory: string): fs.Dirent[] {
  try {
    return fs.readdirSync(directory, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** A folder moved in whole (or made and filled before its watch began) holds sources no event announced. */
function containsSources(directory: string): boolean {
  return readDirectory(directory).some((entry) => entry.name.endsWith(".ts") || (entry.isDirectory() && containsSources(path.join(directory, entry.name))));
}
