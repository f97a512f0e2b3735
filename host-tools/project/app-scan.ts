import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

/** A source file that calls registerApp, with the names it registers (literal names only) and the first call's line. */
export interface AppRegistration {
  file: string;
  names: string[];
  line: number;
}

/**
 * The files under `sourceDir` that register apps, found by reading them (TypeScript's parser, no type check): the
 * build imports exactly these, so a project needs no list of its apps. A name that is not a literal is registered
 * just the same, but only literal names can be checked before the firmware runs.
 */
export function findApps(sourceDir: string): AppRegistration[] {
  const found: AppRegistration[] = [];
  for (const file of sourceFiles(sourceDir)) {
    const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
    const names: string[] = [];
    let line = 0;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "registerApp") {
        if (!line) line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
        const [name] = node.arguments;
        if (name && (ts.isStringLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name))) names.push(name.text);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    if (line) found.push({ file, names, line });
  }
  return found;
}

/** Every .ts file under a folder (not declarations, not node_modules or hidden folders), in a stable order. */
export function sourceFiles(directory: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) files.push(full);
    }
  };
  walk(directory);
  return files;
}
