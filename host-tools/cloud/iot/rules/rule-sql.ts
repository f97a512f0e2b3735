/**
 * The AWS IoT SQL subset the course needs (iot-sql-reference: SELECT, FROM, WHERE, operators, functions):
 *   SELECT * | expr [AS name], … FROM 'topic/+/filter/#' [WHERE expr]
 * with literals (numbers, 'strings', true, false, null), fields and nested fields (a.b, a[0]), + - * / %, comparisons
 * (= <> != < <= > >=), AND, OR, NOT, IS [NOT] NULL, IS [NOT] UNDEFINED, parentheses, and function calls. One pass
 * over the text, no backtracking: the time is linear in its length. A rule that does not parse is a RuleSqlError
 * naming the line, column and the expected token.
 */
import { EsplabError } from "../../../../firmware/core/errors.ts";

export type Expression =
  | { kind: "literal"; value: unknown }
  | { kind: "field"; path: (string | number)[] }
  | { kind: "call"; name: string; args: Expression[] }
  | { kind: "unary"; operator: "-" | "NOT"; operand: Expression }
  | { kind: "binary"; operator: string; left: Expression; right: Expression }
  | { kind: "is"; operand: Expression; test: "NULL" | "UNDEFINED"; negated: boolean };

export interface SelectItem {
  /** `*`: every field of the payload. */
  all?: true;
  expression?: Expression;
  name?: string;
}

export interface RuleQuery {
  select: SelectItem[];
  from: string;
  where: Expression | undefined;
}

export class RuleSqlError extends EsplabError {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
  readonly expected: string;
  constructor(sql: string, offset: number, expected: string, found: string) {
    const before = sql.slice(0, offset);
    const line = before.split("\n").length;
    const column = offset - before.lastIndexOf("\n");
    super("RULE_SQL", `expected ${expected} at ${line}:${column}, found ${found}`);
    this.offset = offset;
    this.line = line;
    this.column = column;
    this.expected = expected;
  }
}

type TokenKind = "number" | "string" | "word" | "symbol" | "end";
interface Token {
  kind: TokenKind;
  text: string;
  value?: unknown;
  offset: number;
}

const SYMBOLS = ["<>", "!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", ".", "[", "]"];
const KEYWORDS = new Set(["SELECT", "FROM", "WHERE", "AS", "AND", "OR", "NOT", "IS", "NULL", "UNDEFINED", "TRUE", "FALSE"]);
export const MAX_SQL_LENGTH = 256 * 1024;
/** The functions the rules engine knows, lowercase. */
export const RULE_FUNCTIONS = ["topic", "clientid", "timestamp", "abs", "floor", "ceil", "round", "lower", "upper", "concat", "power"];

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < sql.length) {
    const c = sql[at]!;
    if (/\s/.test(c)) {
      at++;
      continue;
    }
    const start = at;
    if (/[0-9]/.test(c)) {
      while (at < sql.length && /[0-9]/.test(sql[at]!)) at++;
      if (sql[at] === "." && /[0-9]/.test(sql[at + 1] ?? "")) for (at++; at < sql.length && /[0-9]/.test(sql[at]!); ) at++;
      if (/[eE]/.test(sql[at] ?? "") && /[0-9+-]/.test(sql[at + 1] ?? "")) for (at += 2; at < sql.length && /[0-9]/.test(sql[at]!); ) at++;
      const text = sql.slice(start, at);
      tokens.push({ kind: "number", text, value: Number(text), offset: start });
    } else if (c === "'" || c === '"') {
      // 'text' is a string; "text" quotes a field name with other characters. A doubled quote is the quote itself.
      let value = "";
      at++;
      for (;;) {
        if (at >= sql.length) throw new RuleSqlError(sql, start, `the closing ${c} of the text that starts here`, "the end of the rule");
        if (sql[at] === c) {
          if (sql[at + 1] === c) {
            value += c;
            at += 2;
            continue;
          }
          at++;
          break;
        }
        value += sql[at++];
      }
      tokens.push(c === "'" ? { kind: "string", text: sql.slice(start, at), value, offset: start } : { kind: "word", text: value, value: "quoted", offset: start });
    } else if (/[A-Za-z_$]/.test(c)) {
      while (at < sql.length && /[A-Za-z0-9_$]/.test(sql[at]!)) at++;
      tokens.push({ kind: "word", text: sql.slice(start, at), offset: start });
    } else {
      const symbol = SYMBOLS.find((s) => sql.startsWith(s, at));
      if (!symbol) throw new RuleSqlError(sql, at, "an operator, a name, a number or a 'string'", `'${c}'`);
      at += symbol.length;
      tokens.push({ kind: "symbol", text: symbol, offset: start });
    }
  }
  tokens.push({ kind: "end", text: "", offset: sql.length });
  return tokens;
}

/** Parses a rule's SQL; throws RuleSqlError. */
export function parseRuleSql(sql: string): RuleQuery {
  if (typeof sql !== "string") throw new RuleSqlError("", 0, "the rule's SQL as text", typeof sql);
  if (sql.length > MAX_SQL_LENGTH) throw new RuleSqlError(sql, MAX_SQL_LENGTH, `a rule of at most ${MAX_SQL_LENGTH} characters`, "more");
  const parser = new Parser(sql, tokenize(sql));
  return parser.query();
}

/** Parses one expression (the inside of a ${…} substitution template); throws RuleSqlError. */
export function parseExpression(text: string): Expression {
  const parser = new Parser(text, tokenize(text));
  const expression = parser.expression();
  parser.end();
  return expression;
}

class Parser {
  #at = 0;
  readonly #depthLimit = 64;
  #depth = 0;
  constructor(
    readonly sql: string,
    readonly tokens: Token[],
  ) {}

  get #token(): Token {
    return this.tokens[this.#at]!;
  }

  #fail(expected: string): never {
    const token = this.#token;
    throw new RuleSqlError(this.sql, token.offset, expected, token.kind === "end" ? "the end of the rule" : `'${token.text.slice(0, 40)}'`);
  }

  #isKeyword(word: string): boolean {
    const token = this.#token;
    return token.kind === "word" && token.value !== "quoted" && token.text.toUpperCase() === word;
  }

  #keyword(word: string): void {
    if (!this.#isKeyword(word)) this.#fail(word);
    this.#at++;
  }

  #isSymbol(symbol: string): boolean {
    return this.#token.kind === "symbol" && this.#token.text === symbol;
  }

  #symbol(symbol: string): void {
    if (!this.#isSymbol(symbol)) this.#fail(`'${symbol}'`);
    this.#at++;
  }

  end(): void {
    if (this.#token.kind !== "end") this.#fail("the end of the expression");
  }

  query(): RuleQuery {
    this.#keyword("SELECT");
    const select: SelectItem[] = [];
    do {
      if (this.#isSymbol("*")) {
        this.#at++;
        select.push({ all: true });
        continue;
      }
      const start = this.#token;
      const expression = this.expression();
      let name: string | undefined;
      if (this.#isKeyword("AS")) {
        this.#at++;
        if (this.#token.kind !== "word") this.#fail("a name after AS");
        name = this.#token.text;
        this.#at++;
      } else if (expression.kind === "field") {
        name = String(expression.path.filter((part) => typeof part === "string").at(-1));
      } else if (expression.kind === "call") {
        name = expression.name;
      } else {
        throw new RuleSqlError(this.sql, start.offset, "AS name after this expression (the output needs a field name for it)", `'${start.text}'`);
      }
      select.push({ expression, name });
    } while (this.#isSymbol(",") && ++this.#at);
    this.#keyword("FROM");
    if (this.#token.kind !== "string") this.#fail("the topic filter as a 'quoted/topic/+/#'");
    const from = this.#token.value as string;
    const filterProblem = topicFilterProblem(from);
    if (filterProblem) throw new RuleSqlError(this.sql, this.#token.offset, `a topic filter (${filterProblem})`, `'${from.slice(0, 40)}'`);
    this.#at++;
    let where: Expression | undefined;
    if (this.#isKeyword("WHERE")) {
      this.#at++;
      where = this.expression();
    }
    if ((this.#token as Token).kind !== "end") this.#fail(where ? "AND, OR or the end of the rule" : "WHERE or the end of the rule");
    return { select, from, where };
  }

  expression(): Expression {
    if (++this.#depth > this.#depthLimit) this.#fail(`an expression nested at most ${this.#depthLimit} deep`);
    try {
      return this.#or();
    } finally {
      this.#depth--;
    }
  }

  #or(): Expression {
    let left = this.#and();
    while (this.#isKeyword("OR")) {
      this.#at++;
      left = { kind: "binary", operator: "OR", left, right: this.#and() };
    }
    return left;
  }

  #and(): Expression {
    let left = this.#not();
    while (this.#isKeyword("AND")) {
      this.#at++;
      left = { kind: "binary", operator: "AND", left, right: this.#not() };
    }
    return left;
  }

  #not(): Expression {
    if (this.#isKeyword("NOT")) {
      this.#at++;
      if (++this.#depth > this.#depthLimit) this.#fail(`an expression nested at most ${this.#depthLimit} deep`);
      try {
        return { kind: "unary", operator: "NOT", operand: this.#not() };
      } finally {
        this.#depth--;
      }
    }
    return this.#comparison();
  }

  #comparison(): Expression {
    const left = this.#additive();
    if (this.#isKeyword("IS")) {
      this.#at++;
      const negated = this.#isKeyword("NOT");
      if (negated) this.#at++;
      if (this.#isKeyword("NULL")) {
        this.#at++;
        return { kind: "is", operand: left, test: "NULL", negated };
      }
      if (this.#isKeyword("UNDEFINED")) {
        this.#at++;
        return { kind: "is", operand: left, test: "UNDEFINED", negated };
      }
      this.#fail("NULL or UNDEFINED after IS");
    }
    for (const operator of ["=", "<>", "!=", "<=", ">=", "<", ">"]) {
      if (this.#isSymbol(operator)) {
        this.#at++;
        return { kind: "binary", operator: operator === "!=" ? "<>" : operator, left, right: this.#additive() };
      }
    }
    return left;
  }

  #additive(): Expression {
    let left = this.#multiplicative();
    while (this.#isSymbol("+") || this.#isSymbol("-")) {
      const operator = this.#token.text;
      this.#at++;
      left = { kind: "binary", operator, left, right: this.#multiplicative() };
    }
    return left;
  }

  #multiplicative(): Expression {
    let left = this.#unary();
    while (this.#isSymbol("*") || this.#isSymbol("/") || this.#isSymbol("%")) {
      const operator = this.#token.text;
      this.#at++;
      left = { kind: "binary", operator, left, right: this.#unary() };
    }
    return left;
  }

  #unary(): Expression {
    if (this.#isSymbol("-")) {
      this.#at++;
      if (++this.#depth > this.#depthLimit) this.#fail(`an expression nested at most ${this.#depthLimit} deep`);
      try {
        return { kind: "unary", operator: "-", operand: this.#unary() };
      } finally {
        this.#depth--;
      }
    }
    return this.#postfix();
  }

  #postfix(): Expression {
    let expression = this.#primary();
    for (;;) {
      if (this.#isSymbol(".")) {
        if (expression.kind !== "field") this.#fail("an operator (only fields have .parts)");
        this.#at++;
        if (this.#token.kind !== "word") this.#fail("a field name after '.'");
        expression = { kind: "field", path: [...expression.path, this.#token.text] };
        this.#at++;
      } else if (this.#isSymbol("[")) {
        if (expression.kind !== "field") this.#fail("an operator (only fields have [index])");
        this.#at++;
        if (this.#token.kind !== "number" || !Number.isInteger(this.#token.value)) this.#fail("a whole number index");
        const index = this.#token.value as number;
        this.#at++;
        this.#symbol("]");
        expression = { kind: "field", path: [...expression.path, index] };
      } else return expression;
    }
  }

  #primary(): Expression {
    const token = this.#token;
    if (token.kind === "number" || token.kind === "string") {
      this.#at++;
      return { kind: "literal", value: token.value };
    }
    if (this.#isSymbol("(")) {
      this.#at++;
      const inner = this.expression();
      this.#symbol(")");
      return inner;
    }
    if (token.kind === "word") {
      const upper = token.value === "quoted" ? "" : token.text.toUpperCase();
      if (upper === "TRUE" || upper === "FALSE" || upper === "NULL") {
        this.#at++;
        return { kind: "literal", value: upper === "NULL" ? null : upper === "TRUE" };
      }
      if (KEYWORDS.has(upper)) this.#fail("a value, a field or a function");
      this.#at++;
      if (token.value !== "quoted" && this.#isSymbol("(")) {
        this.#at++;
        const args: Expression[] = [];
        if (!this.#isSymbol(")")) {
          do args.push(this.expression());
          while (this.#isSymbol(",") && ++this.#at);
        }
        this.#symbol(")");
        const name = token.text.toLowerCase();
        if (!RULE_FUNCTIONS.includes(name)) {
          throw new RuleSqlError(this.sql, token.offset, `a function esplab's rules know (${RULE_FUNCTIONS.join(", ")})`, `'${token.text.slice(0, 40)}'`);
        }
        return { kind: "call", name, args };
      }
      return { kind: "field", path: [token.text] };
    }
    this.#fail("a value, a field or a function");
  }
}

/** Why `filter` is not an MQTT topic filter, or undefined. */
export function topicFilterProblem(filter: string): string | undefined {
  if (!filter.length) return "it is empty";
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) return "# only as the whole last level";
    if (level.includes("+") && level !== "+") return "+ only as a whole level";
  }
  return undefined;
}

/** MQTT topic filter matching (+ one level, # the rest); topics starting with $ match only filters that do. */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith("$") && !filter.startsWith("$")) return false;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
