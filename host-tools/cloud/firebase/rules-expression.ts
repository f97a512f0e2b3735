/**
 * The Realtime Database rules language (the expressions in ".read", ".write", ".validate"), parsed and evaluated
 * without eval: literals, auth/now/root/data/newData/$variables, member access and method calls, ! && || ?:,
 * comparisons and arithmetic, and /regex/ literals for matches(). A rule that fails to evaluate denies, as in
 * production. Supported snapshot methods: val, child, parent, exists, hasChild, hasChildren, isNumber, isString,
 * isBoolean, getPriority; string methods and properties: length, beginsWith, endsWith, contains, matches,
 * toLowerCase, toUpperCase, replace.
 */

export class RuleSyntaxError extends Error {}

type Node =
  | { type: "literal"; value: unknown }
  | { type: "regex"; value: RegExp }
  | { type: "array"; items: Node[] }
  | { type: "name"; name: string }
  | { type: "member"; object: Node; property: string }
  | { type: "index"; object: Node; index: Node }
  | { type: "call"; callee: Node; args: Node[] }
  | { type: "unary"; operator: string; operand: Node }
  | { type: "binary"; operator: string; left: Node; right: Node }
  | { type: "conditional"; test: Node; then: Node; otherwise: Node };

type Token = { kind: "number" | "string" | "name" | "op" | "regex" | "end"; text: string; value?: unknown };

const OPERATORS = ["===", "!==", "==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "(", ")", "[", "]", ".", ",", "?", ":"];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const previousAllowsRegex = () => {
    const last = tokens.at(-1);
    return !last || (last.kind === "op" && ![")", "]"].includes(last.text));
  };
  while (i < source.length) {
    const char = source[i]!;
    if (/\s/.test(char)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(char) || (char === "." && /[0-9]/.test(source[i + 1] ?? ""))) {
      const match = /^\d*\.?\d+(?:[eE][+-]?\d+)?/.exec(source.slice(i))!;
      tokens.push({ kind: "number", text: match[0], value: Number(match[0]) });
      i += match[0].length;
      continue;
    }
    if (char === "'" || char === '"') {
      let j = i + 1;
      let value = "";
      while (j < source.length && source[j] !== char) {
        if (source[j] === "\\" && j + 1 < source.length) {
          const next = source[j + 1]!;
          value += next === "n" ? "\n" : next === "t" ? "\t" : next;
          j += 2;
        } else value += source[j++];
      }
      if (j >= source.length) throw new RuleSyntaxError(`unterminated string at ${i}`);
      tokens.push({ kind: "string", text: source.slice(i, j + 1), value });
      i = j + 1;
      continue;
    }
    if (char === "/" && previousAllowsRegex()) {
      const match = /^\/((?:\\.|[^/\\])+)\/([a-z]*)/.exec(source.slice(i));
      if (!match) throw new RuleSyntaxError(`bad regular expression at ${i}`);
      let regex: RegExp;
      try {
        regex = new RegExp(match[1]!, match[2]!.replace(/[^im]/g, ""));
      } catch {
        throw new RuleSyntaxError(`bad regular expression ${match[0]}`);
      }
      tokens.push({ kind: "regex", text: match[0], value: regex });
      i += match[0].length;
      continue;
    }
    if (/[A-Za-z_$]/.test(char)) {
      const match = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(source.slice(i))!;
      tokens.push({ kind: "name", text: match[0] });
      i += match[0].length;
      continue;
    }
    const operator = OPERATORS.find((op) => source.startsWith(op, i));
    if (!operator) throw new RuleSyntaxError(`unexpected "${char}" at ${i}`);
    tokens.push({ kind: "op", text: operator });
    i += operator.length;
  }
  tokens.push({ kind: "end", text: "" });
  return tokens;
}

const PRECEDENCE: Record<string, number> = { "||": 1, "&&": 2, "===": 3, "!==": 3, "==": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6 };

export function parseRule(source: string): Node {
  const tokens = tokenize(source);
  let at = 0;
  const peek = () => tokens[at]!;
  const take = () => tokens[at++]!;
  const expect = (text: string) => {
    if (peek().text !== text) throw new RuleSyntaxError(`expected "${text}" but found "${peek().text || "end"}"`);
    take();
  };
  if (tokens.length > 2000) throw new RuleSyntaxError("rule too long");

  function expression(minimum = 0, depth = 0): Node {
    if (depth > 100) throw new RuleSyntaxError("rule nested too deeply");
    let left = unary(depth);
    for (;;) {
      const token = peek();
      if (token.kind === "op" && token.text === "?" && minimum === 0) {
        take();
        const then = expression(0, depth + 1);
        expect(":");
        const otherwise = expression(0, depth + 1);
        left = { type: "conditional", test: left, then, otherwise };
        continue;
      }
      const precedence = token.kind === "op" ? PRECEDENCE[token.text] : undefined;
      if (precedence === undefined || precedence <= minimum) return left;
      take();
      left = { type: "binary", operator: token.text, left, right: expression(precedence, depth + 1) };
    }
  }

  function unary(depth: number): Node {
    const token = peek();
    if (token.kind === "op" && (token.text === "!" || token.text === "-")) {
      take();
      return { type: "unary", operator: token.text, operand: unary(depth + 1) };
    }
    return postfix(primary(depth), depth);
  }

  function primary(depth: number): Node {
    const token = take();
    switch (token.kind) {
      case "number":
      case "string":
        return { type: "literal", value: token.value };
      case "regex":
        return { type: "regex", value: token.value as RegExp };
      case "name":
        if (token.text === "true") return { type: "literal", value: true };
        if (token.text === "false") return { type: "literal", value: false };
        if (token.text === "null") return { type: "literal", value: null };
        return { type: "name", name: token.text };
      case "op":
        if (token.text === "(") {
          const inner = expression(0, depth + 1);
          expect(")");
          return inner;
        }
        if (token.text === "[") {
          const items: Node[] = [];
          while (peek().text !== "]") {
            items.push(expression(0, depth + 1));
            if (peek().text === ",") take();
            else break;
          }
          expect("]");
          return { type: "array", items };
        }
    }
    throw new RuleSyntaxError(`unexpected "${token.text || "end of rule"}"`);
  }

  function postfix(node: Node, depth: number): Node {
    for (;;) {
      const token = peek();
      if (token.text === ".") {
        take();
        const name = take();
        if (name.kind !== "name") throw new RuleSyntaxError(`expected a name after "."`);
        node = { type: "member", object: node, property: name.text };
      } else if (token.text === "[") {
        take();
        const index = expression(0, depth + 1);
        expect("]");
        node = { type: "index", object: node, index };
      } else if (token.text === "(") {
        take();
        const args: Node[] = [];
        while (peek().text !== ")") {
          args.push(expression(0, depth + 1));
          if (peek().text === ",") take();
          else break;
        }
        expect(")");
        node = { type: "call", callee: node, args };
      } else return node;
    }
  }

  const node = expression();
  if (peek().kind !== "end") throw new RuleSyntaxError(`unexpected "${peek().text}" after the rule`);
  return node;
}

/** A database location as a rule sees it (data, newData, root). */
export interface RuleSnapshot {
  val(): unknown;
  child(path: string): RuleSnapshot;
  parent(): RuleSnapshot;
  exists(): boolean;
}

export type RuleScope = Record<string, unknown>;

class RuleEvaluationError extends Error {}

const SNAPSHOT_METHODS = new Set(["val", "child", "parent", "exists", "hasChild", "hasChildren", "isNumber", "isString", "isBoolean", "getPriority"]);

/** Evaluates a parsed rule; anything that goes wrong evaluates to false (deny). */
export function evaluateRule(node: Node, scope: RuleScope): boolean {
  try {
    return evaluate(node, scope) === true;
  } catch {
    return false;
  }
}

function isSnapshot(value: unknown): value is RuleSnapshot & Record<string, unknown> {
  return typeof value === "object" && value !== null && typeof (value as RuleSnapshot).val === "function" && typeof (value as RuleSnapshot).child === "function";
}

function evaluate(node: Node, scope: RuleScope): unknown {
  switch (node.type) {
    case "literal":
    case "regex":
      return node.value;
    case "array":
      return node.items.map((item) => evaluate(item, scope));
    case "name":
      if (!(node.name in scope)) throw new RuleEvaluationError(`unknown variable ${node.name}`);
      return scope[node.name];
    case "member":
      return property(evaluate(node.object, scope), node.property);
    case "index": {
      const object = evaluate(node.object, scope);
      const index = evaluate(node.index, scope);
      return property(object, String(index));
    }
    case "call": {
      if (node.callee.type !== "member") throw new RuleEvaluationError("only methods can be called");
      const target = evaluate(node.callee.object, scope);
      const args = node.args.map((arg) => evaluate(arg, scope));
      return call(target, node.callee.property, args);
    }
    case "unary": {
      const value = evaluate(node.operand, scope);
      if (node.operator === "!") return !truthy(value);
      if (typeof value !== "number") throw new RuleEvaluationError("- needs a number");
      return -value;
    }
    case "conditional":
      return truthy(evaluate(node.test, scope)) ? evaluate(node.then, scope) : evaluate(node.otherwise, scope);
    case "binary": {
      if (node.operator === "&&") return truthy(evaluate(node.left, scope)) && truthy(evaluate(node.right, scope));
      if (node.operator === "||") return truthy(evaluate(node.left, scope)) || truthy(evaluate(node.right, scope));
      const left = evaluate(node.left, scope);
      const right = evaluate(node.right, scope);
      switch (node.operator) {
        case "===":
        case "==":
          return left === right;
        case "!==":
        case "!=":
          return left !== right;
        case "<":
        case "<=":
        case ">":
        case ">=": {
          if (typeof left !== typeof right || (typeof left !== "number" && typeof left !== "string")) throw new RuleEvaluationError("compare numbers or strings");
          const l = left as number;
          const r = right as number;
          return node.operator === "<" ? l < r : node.operator === "<=" ? l <= r : node.operator === ">" ? l > r : l >= r;
        }
        case "+":
          if (typeof left === "string" || typeof right === "string") return String(left) + String(right);
          if (typeof left === "number" && typeof right === "number") return left + right;
          throw new RuleEvaluationError("+ needs numbers or strings");
        default: {
          if (typeof left !== "number" || typeof right !== "number") throw new RuleEvaluationError(`${node.operator} needs numbers`);
          return node.operator === "-" ? left - right : node.operator === "*" ? left * right : node.operator === "/" ? left / right : left % right;
        }
      }
    }
  }
}

function truthy(value: unknown): boolean {
  if (typeof value !== "boolean") throw new RuleEvaluationError("a condition must be true or false");
  return value;
}

function property(object: unknown, name: string): unknown {
  if (typeof object === "string") {
    if (name === "length") return object.length;
    throw new RuleEvaluationError(`strings have no property ${name} (methods need parentheses)`);
  }
  if (isSnapshot(object)) throw new RuleEvaluationError(`snapshots have no property ${name} (call ${name}())`);
  if (object && typeof object === "object" && !Array.isArray(object) && Object.prototype.hasOwnProperty.call(object, name)) {
    return (object as Record<string, unknown>)[name];
  }
  if (object && typeof object === "object") return null; // auth.token.missing → null, as in production
  throw new RuleEvaluationError(`no property ${name}`);
}

function call(target: unknown, method: string, args: unknown[]): unknown {
  if (typeof target === "string") return stringMethod(target, method, args);
  if (isSnapshot(target)) return snapshotMethod(target, method, args);
  throw new RuleEvaluationError(`cannot call ${method}`);
}

function stringMethod(text: string, method: string, args: unknown[]): unknown {
  const arg = args[0];
  switch (method) {
    case "beginsWith":
      return typeof arg === "string" && text.startsWith(arg);
    case "endsWith":
      return typeof arg === "string" && text.endsWith(arg);
    case "contains":
      return typeof arg === "string" && text.includes(arg);
    case "matches":
      if (!(arg instanceof RegExp)) throw new RuleEvaluationError("matches takes a /regex/");
      return arg.test(text);
    case "toLowerCase":
      return text.toLowerCase();
    case "toUpperCase":
      return text.toUpperCase();
    case "replace":
      return typeof arg === "string" && typeof args[1] === "string" ? text.split(arg).join(args[1]) : text;
  }
  throw new RuleEvaluationError(`strings have no ${method}()`);
}

function snapshotMethod(snapshot: RuleSnapshot, method: string, args: unknown[]): unknown {
  if (!SNAPSHOT_METHODS.has(method)) throw new RuleEvaluationError(`snapshots have no ${method}()`);
  const value = snapshot.val();
  switch (method) {
    case "val":
      return value;
    case "child":
      if (typeof args[0] !== "string") throw new RuleEvaluationError("child takes a path");
      return snapshot.child(args[0]);
    case "parent":
      return snapshot.parent();
    case "exists":
      return value !== null && value !== undefined;
    case "hasChild":
      return typeof args[0] === "string" && snapshot.child(args[0]).exists();
    case "hasChildren":
      if (Array.isArray(args[0])) return args[0].every((name) => typeof name === "string" && snapshot.child(name).exists());
      return value !== null && typeof value === "object" && Object.keys(value).length > 0;
    case "isNumber":
      return typeof value === "number";
    case "isString":
      return typeof value === "string";
    case "isBoolean":
      return typeof value === "boolean";
    default:
      return null; // getPriority: priorities are not kept
  }
}
