import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The firmware library is preloaded: Moddable's linker runs every module's top level at build time and puts what it
 * made in flash. Two kinds of such objects fail at run time on Moddable's runtime (found with --engine moddable;
 * xsnap, which preloads nothing, cannot show either):
 *  - a RegExp made at the top level: the VM crashes after some hundred calls to its test/exec;
 *  - a Map or Set made at the top level and changed later: "TypeError: this: read-only Map instance".
 * Reading a top-level Map or Set, and regular expressions made inside functions, are fine. This check finds both
 * patterns in the source, so they cannot land.
 */

const firmware = path.resolve(import.meta.dirname, "../../firmware");
const MUTATORS = new Set(["set", "add", "delete", "clear"]);

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    // platform/xs is the laptop's XS entry, loaded as a script: nothing in it is preloaded.
    if (entry.isDirectory()) return entry.name.startsWith(".") || full === path.join(firmware, "platform", "xs") ? [] : sources(full);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

/** Code that runs when the module is evaluated: not inside a function body (static class members do run then). */
function runsAtModuleTime(node: ts.Node): boolean {
  for (let at = node.parent; at; at = at.parent) {
    if (ts.isFunctionLike(at) && !ts.isClassStaticBlockDeclaration(at)) return false;
    if (ts.isPropertyDeclaration(at) && !at.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword)) return false;
  }
  return true;
}

function isRegExpCreation(node: ts.Node): boolean {
  if (ts.isRegularExpressionLiteral(node)) return true;
  return (ts.isNewExpression(node) || ts.isCallExpression(node)) && ts.isIdentifier(node.expression) && node.expression.text === "RegExp";
}

/** `file:line what` for every top-level RegExp, and every top-level Map or Set changed inside a function. */
export function preloadHazards(file: string, text = fs.readFileSync(file, "utf8")): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const where = (node: ts.Node) => `${path.relative(firmware, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const hazards: string[] = [];
  const collections = new Set<string>();
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const declaration of statement.declarationList.declarations) {
      const init = declaration.initializer;
      if (ts.isIdentifier(declaration.name) && init && ts.isNewExpression(init) && ts.isIdentifier(init.expression) && ["Map", "Set"].includes(init.expression.text)) {
        collections.add(declaration.name.text);
      }
    }
  }
  const visit = (node: ts.Node) => {
    if (isRegExpCreation(node) && runsAtModuleTime(node)) hazards.push(`${where(node)} a RegExp made when the module loads`);
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      ts.isIdentifier(node.expression.expression) &&
      collections.has(node.expression.expression.text) &&
      MUTATORS.has(node.expression.name.text) &&
      !runsAtModuleTime(node)
    ) {
      hazards.push(`${where(node)} ${node.expression.expression.text}.${node.expression.name.text}() on a Map/Set made when the module loads`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return hazards;
}

describe("the firmware is safe to preload into flash", () => {
  it("makes no RegExp at module load and changes no Map or Set made then", () => {
    expect(sources(firmware).flatMap((file) => preloadHazards(file))).toEqual([]);
  });

  it("the check finds each pattern, and lets the safe ones pass", () => {
    const probe = path.join(firmware, "probe.ts");
    const found = preloadHazards(
      probe,
      [
        "const TOKEN = /^[a-z]+$/;",
        'const BUILT = new RegExp("x");',
        "class Holder { static pattern = /y/; instance = /fine/; }",
        "const table = new Map<string, number>();",
        'table.set("at-load", 1);',
        "export function later(key: string) { table.set(key, 2); return /^ok$/.test(key) && table.get(key); }",
        "const seen = new Set<string>();",
        "export const remember = (key: string) => seen.add(key);",
      ].join("\n"),
    );
    expect(found).toEqual([
      "probe.ts:1 a RegExp made when the module loads",
      "probe.ts:2 a RegExp made when the module loads",
      "probe.ts:3 a RegExp made when the module loads",
      "probe.ts:6 table.set() on a Map/Set made when the module loads",
      "probe.ts:8 seen.add() on a Map/Set made when the module loads",
    ]);
  });
});
