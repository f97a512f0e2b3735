/**
 * Evaluates a parsed rule against one message as AWS IoT SQL (version 2016-03-23) does for the subset parsed:
 * a missing field is Undefined, and an Undefined value is left out of the output; WHERE passes only when it is
 * true; arithmetic takes numbers (a numeric string counts as its number) and gives Undefined otherwise, and so does
 * a division by zero; = and <> compare numbers numerically and other values by type and value; < <= > >= order
 * numbers, or strings by their characters. A payload that is not a JSON object has no fields; `SELECT *` then passes
 * it on as it came (AWS does the same for binary payloads).
 */
import type { Expression, RuleQuery } from "./rule-sql.ts";

export const UNDEFINED: unique symbol = Symbol("Undefined");
type Value = unknown;

export interface RuleMessage {
  topic: string;
  payload: Buffer;
  clientId: string | undefined;
  /** When the broker took the message, ms since the epoch (timestamp()). */
  receivedAt: number;
}

export type RuleOutput = { json: Record<string, unknown> } | { raw: Buffer };

interface Context {
  message: RuleMessage;
  document: Record<string, unknown> | undefined;
}

/** The payload as a JSON object, or undefined when it is not one. */
export function payloadDocument(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(payload.toString("utf8"));
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The rule's output for the message, or undefined when WHERE does not pass. */
export function evaluateRule(query: RuleQuery, message: RuleMessage): RuleOutput | undefined {
  const context: Context = { message, document: payloadDocument(message.payload) };
  if (query.where && evaluate(query.where, context) !== true) return undefined;
  if (!context.document && query.select.length === 1 && query.select[0]!.all) return { raw: message.payload };
  const out: Record<string, unknown> = {};
  for (const item of query.select) {
    if (item.all) Object.assign(out, context.document ?? {});
    else {
      const value = evaluate(item.expression!, context);
      if (value !== UNDEFINED) out[item.name!] = value;
    }
  }
  return { json: out };
}

/** Evaluates one expression against a message (substitution templates use it). */
export function evaluateExpression(expression: Expression, message: RuleMessage): Value {
  return evaluate(expression, { message, document: payloadDocument(message.payload) });
}

function evaluate(expression: Expression, context: Context): Value {
  switch (expression.kind) {
    case "literal":
      return expression.value;
    case "field": {
      let value: Value = context.document ?? UNDEFINED;
      for (const part of expression.path) {
        if (value === UNDEFINED || value === null || typeof value !== "object") return UNDEFINED;
        if (typeof part === "number" ? !Array.isArray(value) : Array.isArray(value)) return UNDEFINED;
        const next = (value as Record<string | number, Value>)[part];
        value = next === undefined ? UNDEFINED : next;
      }
      return value;
    }
    case "unary": {
      const operand = evaluate(expression.operand, context);
      if (expression.operator === "NOT") return typeof operand === "boolean" ? !operand : UNDEFINED;
      const number = numeric(operand);
      return number === undefined ? UNDEFINED : -number;
    }
    case "is": {
      const operand = evaluate(expression.operand, context);
      const holds = expression.test === "NULL" ? operand === null : operand === UNDEFINED;
      return expression.negated ? !holds : holds;
    }
    case "binary":
      return binary(expression.operator, expression.left, expression.right, context);
    case "call":
      return call(expression.name, expression.args.map((arg) => evaluate(arg, context)), context);
  }
}

function binary(operator: string, leftExpression: Expression, rightExpression: Expression, context: Context): Value {
  if (operator === "AND" || operator === "OR") {
    // three-valued, as SQL: a missing field on one side does not hide a decisive other side
    const decisive = operator === "OR";
    const left = evaluate(leftExpression, context);
    if (left === decisive) return decisive;
    const right = evaluate(rightExpression, context);
    if (right === decisive) return decisive;
    return typeof left === "boolean" && typeof right === "boolean" ? !decisive : UNDEFINED;
  }
  const left = evaluate(leftExpression, context);
  const right = evaluate(rightExpression, context);
  if (left === UNDEFINED || right === UNDEFINED) return UNDEFINED;
  if (operator === "=" || operator === "<>") {
    const equal = equals(left, right);
    return operator === "=" ? equal : !equal;
  }
  if (["<", "<=", ">", ">="].includes(operator)) {
    let order: number;
    const a = numeric(left);
    const b = numeric(right);
    if (a !== undefined && b !== undefined) order = a - b;
    else if (typeof left === "string" && typeof right === "string") order = left < right ? -1 : left > right ? 1 : 0;
    else return UNDEFINED;
    return operator === "<" ? order < 0 : operator === "<=" ? order <= 0 : operator === ">" ? order > 0 : order >= 0;
  }
  const a = numeric(left);
  const b = numeric(right);
  if (a === undefined || b === undefined) return UNDEFINED;
  switch (operator) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      return b === 0 ? UNDEFINED : a / b;
    case "%":
      return b === 0 ? UNDEFINED : a % b;
    default:
      return UNDEFINED;
  }
}

function numeric(value: Value): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

function equals(left: Value, right: Value): boolean {
  if (typeof left === "number" || typeof right === "number") {
    const a = numeric(left);
    const b = numeric(right);
    return a !== undefined && b !== undefined && a === b;
  }
  if (typeof left === "object" && left !== null && typeof right === "object" && right !== null) return JSON.stringify(left) === JSON.stringify(right);
  return left === right;
}

/** The functions (RULE_FUNCTIONS; names are case-insensitive, as in AWS). A wrong argument gives Undefined. */
function call(name: string, args: Value[], context: Context): Value {
  const [first, second] = args;
  const number = numeric(first);
  switch (name) {
    case "topic": {
      const levels = context.message.topic.split("/");
      if (first === undefined) return context.message.topic;
      return Number.isInteger(first) && (first as number) >= 1 && (first as number) <= levels.length ? levels[(first as number) - 1] : UNDEFINED;
    }
    case "clientid":
      return context.message.clientId ?? "n/a";
    case "timestamp":
      return context.message.receivedAt;
    case "abs":
      return number === undefined ? UNDEFINED : Math.abs(number);
    case "floor":
      return number === undefined ? UNDEFINED : Math.floor(number);
    case "ceil":
      return number === undefined ? UNDEFINED : Math.ceil(number);
    case "round":
      return number === undefined ? UNDEFINED : Math.round(number);
    case "lower":
      return typeof first === "string" ? first.toLowerCase() : UNDEFINED;
    case "upper":
      return typeof first === "string" ? first.toUpperCase() : UNDEFINED;
    case "concat":
      return args.some((arg) => arg === UNDEFINED) ? UNDEFINED : args.map((arg) => (typeof arg === "string" ? arg : JSON.stringify(arg))).join("");
    case "power":
      return number === undefined || numeric(second) === undefined ? UNDEFINED : number ** numeric(second)!;
    default:
      return UNDEFINED;
  }
}
