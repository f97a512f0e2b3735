import type { JsonValue } from "../../../firmware/net/firebase/ordering.ts";
import { readerOf, type TreeReader } from "./tree-view.ts";
import { evaluateRule, parseRule, RuleSyntaxError, type RuleSnapshot } from "./rules-expression.ts";

/** Who is asking: the verified ID token's claims, or the administrator ("owner"), or nobody. */
export type Requester = { admin: true } | { admin: false; auth: { uid: string; provider: string; token: Record<string, unknown> } | null };

type RuleNode = { [key: string]: RuleNode | string | boolean | string[] };

export class RulesError extends Error {}

/**
 * Security rules for one database: `.read` and `.write` grant access that cascades down (any rule on the way to a
 * location that says yes, says yes), `.validate` must hold for every written node that has one, and `.indexOn`
 * names the children a query may order by. Rules are checked and compiled when set, so a bad rule is refused with
 * its location instead of failing later.
 */
export class Rules {
  readonly source: object;
  readonly #root: RuleNode;
  readonly #compiled = new Map<string, ReturnType<typeof parseRule>>();

  constructor(source: object) {
    const rules = (source as { rules?: unknown }).rules;
    if (!rules || typeof rules !== "object" || Array.isArray(rules)) throw new RulesError('rules must be {"rules": {…}}');
    this.source = source;
    this.#root = rules as RuleNode;
    this.#compile(this.#root, "/");
  }

  canRead(path: string[], root: JsonValue, requester: Requester, now: number): boolean {
    if (requester.admin) return true;
    const tree = readerOf(root);
    return this.#walk(path, (node, variables, depth) => this.#check(node[".read"], { root: tree, data: tree, path: path.slice(0, depth), variables, requester, now }));
  }

  /** `after` is the tree as the write would leave it (tree-view.ts readerAfter). */
  canWrite(path: string[], before: JsonValue, after: TreeReader, requester: Requester, now: number): boolean {
    if (requester.admin) return true;
    const tree = readerOf(before);
    return this.#walk(path, (node, variables, depth) =>
      this.#check(node[".write"], { root: tree, data: tree, newData: after, path: path.slice(0, depth), variables, requester, now }),
    );
  }

  /** The .validate rules at and below `path` for the new data; returns the first failing location, if any. */
  failedValidation(path: string[], before: JsonValue, after: TreeReader, requester: Requester, now: number): string | undefined {
    if (requester.admin) return undefined;
    const tree = readerOf(before);
    let failed: string | undefined;
    const visit = (node: RuleNode | undefined, at: string[], variables: Record<string, string>) => {
      if (!node || failed) return;
      const rule = node[".validate"];
      if (at.length >= path.length && rule !== undefined && after.exists(at)) {
        if (!this.#check(rule, { root: tree, data: tree, newData: after, path: at, variables, requester, now })) failed = `/${at.join("/")}`;
      }
      if (at.length < path.length) {
        const key = path[at.length]!;
        for (const [name, child] of this.#children(node, key)) visit(child, [...at, key], name.startsWith("$") ? { ...variables, [name]: key } : variables);
      } else {
        const value = after.get(at);
        if (value && typeof value === "object") {
          for (const key of Object.keys(value)) {
            for (const [name, child] of this.#children(node, key)) visit(child, [...at, key], name.startsWith("$") ? { ...variables, [name]: key } : variables);
          }
        }
      }
    };
    visit(this.#root, [], {});
    return failed;
  }

  /** The children named in `.indexOn` at a location (wildcards included). */
  indexOn(path: string[]): string[] {
    let nodes: RuleNode[] = [this.#root];
    for (const key of path) nodes = nodes.flatMap((node) => this.#children(node, key).map(([, child]) => child));
    const names = new Set<string>();
    for (const node of nodes) {
      const index = node[".indexOn"];
      for (const name of Array.isArray(index) ? index : typeof index === "string" ? [index] : []) names.add(name);
    }
    return [...names];
  }

  #children(node: RuleNode, key: string): [string, RuleNode][] {
    const found: [string, RuleNode][] = [];
    const exact = node[key];
    if (exact && typeof exact === "object" && !Array.isArray(exact) && !key.startsWith(".")) found.push([key, exact]);
    else {
      for (const [name, child] of Object.entries(node)) {
        if (name.startsWith("$") && child && typeof child === "object" && !Array.isArray(child)) found.push([name, child]);
      }
    }
    return found;
  }

  /** True when any node on the way from the root to `path` (inclusive) grants. */
  #walk(path: string[], grants: (node: RuleNode, variables: Record<string, string>, depth: number) => boolean): boolean {
    const visit = (node: RuleNode, depth: number, variables: Record<string, string>): boolean => {
      if (grants(node, variables, depth)) return true;
      if (depth === path.length) return false;
      const key = path[depth]!;
      return this.#children(node, key).some(([name, child]) => visit(child, depth + 1, name.startsWith("$") ? { ...variables, [name]: key } : variables));
    };
    return visit(this.#root, 0, {});
  }

  #check(
    rule: unknown,
    context: { root: TreeReader; data: TreeReader; newData?: TreeReader; path: string[]; variables: Record<string, string>; requester: Requester; now: number },
  ): boolean {
    if (rule === undefined) return false;
    if (typeof rule === "boolean") return rule;
    if (typeof rule !== "string") return false;
    const node = this.#compiled.get(rule)!;
    const auth = context.requester.admin ? null : context.requester.auth;
    return evaluateRule(node, {
      ...context.variables,
      auth: auth ? { uid: auth.uid, provider: auth.provider, token: auth.token } : null,
      now: context.now,
      root: snapshot(context.root, []),
      data: snapshot(context.data, context.path),
      newData: snapshot(context.newData ?? context.data, context.path),
    });
  }

  #compile(node: RuleNode, at: string): void {
    for (const [key, value] of Object.entries(node)) {
      if (key === ".read" || key === ".write" || key === ".validate") {
        if (typeof value === "boolean") continue;
        if (typeof value !== "string") throw new RulesError(`${at}${key} must be true, false or an expression`);
        try {
          this.#compiled.set(value, parseRule(value));
        } catch (error) {
          throw new RulesError(`${at}${key}: ${(error as RuleSyntaxError).message}`);
        }
      } else if (key === ".indexOn") {
        if (typeof value !== "string" && !(Array.isArray(value) && value.every((v) => typeof v === "string"))) {
          throw new RulesError(`${at}.indexOn must be a child name or a list of them`);
        }
      } else if (key.startsWith(".")) {
        throw new RulesError(`${at}${key} is not a rule (use .read, .write, .validate, .indexOn)`);
      } else if (value && typeof value === "object" && !Array.isArray(value)) {
        this.#compile(value as RuleNode, `${at}${key}/`);
      } else {
        throw new RulesError(`${at}${key} must be an object of rules`);
      }
    }
  }
}

function snapshot(root: TreeReader, path: string[]): RuleSnapshot {
  return {
    val: () => {
      const value = root.get(path);
      return value !== null && typeof value === "object" ? JSON.parse(JSON.stringify(value)) : value;
    },
    child: (child: string) => snapshot(root, [...path, ...child.split("/").filter(Boolean)]),
    parent: () => snapshot(root, path.slice(0, -1)),
    exists: () => root.exists(path),
  };
}
