/**
 * The rules engine of the local AWS IoT Core: each rule's SQL picks messages by topic filter and WHERE and shapes
 * them with SELECT; its actions then run — republish (AWS's republish action, with ${…} substitution templates in the
 * topic), http (POST of the output as JSON; a non-2xx answer or no answer in time is a failure), and readings (into a
 * readings store, the output taken as a reading of the device named by a template, `${topic(2)}` by default). A
 * failed action goes to the rule's errorAction with AWS's error message ({ruleName, topic, clientId,
 * base64OriginalPayload, failures: [{failedAction, failedResource, errorMessage}]}). A store that is down is retried
 * with backoff before that. At most `maxPending` actions wait at once; beyond that a message's actions fail at once
 * (to the error action), so a slow endpoint cannot make the broker's memory grow without end. Nothing here throws
 * into the broker.
 */
import fs from "node:fs";
import { parse as parseYaml } from "yaml";
import { UsageError } from "../../../../firmware/core/errors.ts";
import { parseReadingMessage, type Reading } from "../../readings/reading-message.ts";
import { evaluateExpression, evaluateRule, UNDEFINED, type RuleMessage, type RuleOutput } from "./evaluate.ts";
import { parseExpression, parseRuleSql, RuleSqlError, topicMatches, type Expression, type RuleQuery } from "./rule-sql.ts";

export interface ReadingsSink {
  insert(reading: Reading, receivedAt?: number): "stored" | "duplicate" | Promise<"stored" | "duplicate">;
}

export type ActionDefinition =
  | { republish: { topic: string; qos?: 0 | 1 } }
  | { http: { url: string; headers?: Record<string, string>; timeoutMs?: number } }
  | { readings: { db: string; device?: string } };

export interface RuleDefinition {
  name: string;
  sql: string;
  actions: ActionDefinition[];
  errorAction?: ActionDefinition;
  enabled?: boolean;
}

export interface RulesEngineOptions {
  rules: RuleDefinition[];
  /** Publishes as the broker (republish, and error actions that republish). */
  publish(topic: string, payload: Buffer, qos: 0 | 1): Promise<void>;
  /** Opens the readings store a `readings` action names (once per db). */
  openStore(db: string): ReadingsSink | Promise<ReadingsSink>;
  fetch?: typeof fetch;
  log?: (line: string) => void;
  maxPending?: number;
  /** Waits before retrying a store that failed (then the error action). */
  retryDelaysMs?: number[];
}

interface CompiledAction {
  kind: "republish" | "http" | "readings";
  resource: string;
  run(output: RuleOutput, message: RuleMessage): Promise<void>;
}

interface CompiledRule {
  name: string;
  query: RuleQuery;
  actions: CompiledAction[];
  errorAction: CompiledAction | undefined;
}

const ACTION_NAMES: Record<CompiledAction["kind"], string> = { republish: "RepublishAction", http: "HttpAction", readings: "ReadingsAction" };

/** Reads a rules file (JSON or YAML: `rules: [{name, sql, actions, errorAction}]`); throws UsageError naming the problem. */
export function loadRulesFile(file: string): RuleDefinition[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError("rules-file", `cannot read the rules file ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new UsageError("rules-file", `${file} is not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${(error as Error).message.split("\n")[0]}`);
  }
  const rules = (parsed as { rules?: unknown })?.rules;
  if (!Array.isArray(rules)) throw new UsageError("rules-file", `${file} must hold rules: a list of {name, sql, actions}`);
  return rules as RuleDefinition[];
}

export class RulesEngine {
  readonly #options: RulesEngineOptions;
  readonly #rules: CompiledRule[];
  readonly #stores = new Map<string, Promise<ReadingsSink>>();
  #pending = 0;
  #idle: (() => void)[] = [];

  constructor(options: RulesEngineOptions) {
    this.#options = options;
    const names = new Set<string>();
    this.#rules = options.rules
      .filter((rule) => rule?.enabled !== false)
      .map((rule, index) => {
        const where = `rule ${index + 1}${typeof rule?.name === "string" ? ` (${rule.name})` : ""}`;
        if (typeof rule?.name !== "string" || !/^[a-zA-Z0-9_]{1,128}$/.test(rule.name)) throw new UsageError("bad-rule", `${where}: name must be 1–128 letters, digits and _ (AWS's rule)`);
        if (names.has(rule.name)) throw new UsageError("bad-rule", `${where}: another rule has this name`);
        names.add(rule.name);
        let query: RuleQuery;
        try {
          query = parseRuleSql(rule.sql);
        } catch (error) {
          throw new UsageError("bad-rule", `${where}: ${(error as Error).message}\n  ${rule.sql}\n  ${error instanceof RuleSqlError ? " ".repeat(Math.max(0, error.column - 1)) + "^" : ""}`);
        }
        if (!Array.isArray(rule.actions) || !rule.actions.length) throw new UsageError("bad-rule", `${where}: actions must list at least one action (republish, http or readings)`);
        return {
          name: rule.name,
          query,
          actions: rule.actions.map((action, n) => this.#compile(action, `${where}, action ${n + 1}`)),
          errorAction: rule.errorAction ? this.#compile(rule.errorAction, `${where}, errorAction`) : undefined,
        };
      });
  }

  get rules(): string[] {
    return this.#rules.map((rule) => rule.name);
  }

  /** Takes one message from the broker: evaluates every rule and starts the actions of those that pass. */
  onPublish(message: RuleMessage): void {
    for (const rule of this.#rules) {
      if (!topicMatches(rule.query.from, message.topic)) continue;
      let output: RuleOutput | undefined;
      try {
        output = evaluateRule(rule.query, message);
      } catch (error) {
        this.#options.log?.(`rules: ${rule.name} failed on ${message.topic}: ${(error as Error).message}`);
        continue;
      }
      if (!output) continue;
      for (const action of rule.actions) this.#start(rule, action, output, message);
    }
  }

  /** Resolves when no action is running (tests, shutdown). */
  idle(): Promise<void> {
    return this.#pending === 0 ? Promise.resolve() : new Promise((resolve) => this.#idle.push(resolve));
  }

  #start(rule: CompiledRule, action: CompiledAction, output: RuleOutput, message: RuleMessage): void {
    if (this.#pending >= (this.#options.maxPending ?? 10_000)) {
      void this.#failed(rule, action, message, `${this.#pending} actions are already waiting (the limit): the action's target is too slow for the message rate`);
      return;
    }
    this.#pending++;
    action
      .run(output, message)
      .catch((error: Error) => this.#failed(rule, action, message, error.message))
      .finally(() => {
        if (--this.#pending === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
  }

  async #failed(rule: CompiledRule, action: CompiledAction, message: RuleMessage, errorMessage: string): Promise<void> {
    this.#options.log?.(`rules: ${rule.name}: ${ACTION_NAMES[action.kind]} on ${action.resource} failed: ${errorMessage}`);
    if (!rule.errorAction) return;
    const report = {
      ruleName: rule.name,
      topic: message.topic,
      cloudwatchTraceId: `${message.receivedAt.toString(16)}-${Math.floor(Math.random() * 2 ** 32).toString(16)}`,
      clientId: message.clientId ?? "n/a",
      base64OriginalPayload: message.payload.toString("base64"),
      failures: [{ failedAction: ACTION_NAMES[action.kind], failedResource: action.resource, errorMessage }],
    };
    await rule.errorAction.run({ json: report }, message).catch((error: Error) => this.#options.log?.(`rules: ${rule.name}: the error action failed too: ${error.message}`));
  }

  #compile(action: ActionDefinition, where: string): CompiledAction {
    const definition = action as Record<string, Record<string, unknown> | undefined>;
    const kinds = Object.keys(definition ?? {});
    if (kinds.length !== 1 || !["republish", "http", "readings"].includes(kinds[0]!)) {
      throw new UsageError("bad-rule", `${where}: an action is one of {republish: {topic}}, {http: {url}}, {readings: {db}}; got ${JSON.stringify(action).slice(0, 80)}`);
    }
    const kind = kinds[0] as CompiledAction["kind"];
    const settings = definition[kind] ?? {};
    const text = (name: string, required: boolean): string | undefined => {
      const value = settings[name];
      if (value === undefined && !required) return undefined;
      if (typeof value !== "string" || !value) throw new UsageError("bad-rule", `${where}: ${kind}.${name} must be text`);
      return value;
    };
    if (kind === "republish") {
      const topic = template(text("topic", true)!, where);
      const qos = settings.qos === undefined ? 0 : settings.qos;
      if (qos !== 0 && qos !== 1) throw new UsageError("bad-rule", `${where}: republish.qos must be 0 or 1 (AWS IoT has no QoS 2)`);
      return {
        kind,
        resource: text("topic", true)!,
        run: async (output, message) => {
          const target = topic(message);
          if (/[+#]/.test(target) || !target) throw new Error(`the topic "${target}" is not a topic to publish to`);
          await this.#options.publish(target, "raw" in output ? output.raw : Buffer.from(JSON.stringify(output.json)), qos);
        },
      };
    }
    if (kind === "http") {
      const url = template(text("url", true)!, where);
      const headers = (settings.headers ?? {}) as Record<string, string>;
      const timeoutMs = typeof settings.timeoutMs === "number" ? settings.timeoutMs : 3000;
      return {
        kind,
        resource: text("url", true)!,
        run: async (output, message) => {
          const response = await (this.#options.fetch ?? fetch)(url(message), {
            method: "POST",
            headers: { "content-type": "raw" in output ? "application/octet-stream" : "application/json", ...headers },
            body: "raw" in output ? output.raw : JSON.stringify(output.json),
            signal: AbortSignal.timeout(timeoutMs),
          }).catch((error: Error) => {
            throw new Error(error.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : `cannot reach it: ${(error.cause as Error)?.message ?? error.message}`);
          });
          await response.arrayBuffer().catch(() => undefined);
          if (response.status < 200 || response.status > 299) throw new Error(`it answered ${response.status} ${response.statusText}`);
        },
      };
    }
    const db = text("db", true)!;
    const device = template(text("device", false) ?? "${topic(2)}", where);
    return {
      kind,
      resource: db,
      run: async (output, message) => {
        if ("raw" in output) throw new Error("the payload is not a JSON object, so it is not a reading");
        const name = device(message);
        const reading = parseReadingMessage(`sensor/${name}`, Buffer.from(JSON.stringify(output.json)));
        const store = await this.#store(db);
        const delays = this.#options.retryDelaysMs ?? [100, 300, 1000, 3000, 10_000];
        for (let attempt = 0; ; attempt++) {
          try {
            await store.insert(reading, message.receivedAt);
            return;
          } catch (error) {
            const transient = (error as { transient?: boolean }).transient === true;
            if (!transient || attempt >= delays.length) throw error;
            await new Promise((resolve) => setTimeout(resolve, delays[attempt]));
          }
        }
      },
    };
  }

  #store(db: string): Promise<ReadingsSink> {
    let store = this.#stores.get(db);
    if (!store) {
      store = Promise.resolve().then(() => this.#options.openStore(db));
      store.catch(() => this.#stores.delete(db));
      this.#stores.set(db, store);
    }
    return store;
  }
}

/** A text with ${expression} substitution templates, as AWS's republish topic and HTTP URL take. */
function template(text: string, where: string): (message: RuleMessage) => string {
  const parts: (string | Expression)[] = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf("${", at);
    if (open < 0) {
      parts.push(text.slice(at));
      break;
    }
    const close = text.indexOf("}", open);
    if (close < 0) throw new UsageError("bad-rule", `${where}: "${text}" opens \${ at ${open + 1} without a closing }`);
    parts.push(text.slice(at, open));
    try {
      parts.push(parseExpression(text.slice(open + 2, close)));
    } catch (error) {
      throw new UsageError("bad-rule", `${where}: in the template "${text}": ${(error as Error).message}`);
    }
    at = close + 1;
  }
  return (message) =>
    parts
      .map((part) => {
        if (typeof part === "string") return part;
        const value = evaluateExpression(part, message);
        return value === UNDEFINED || value === null ? "" : typeof value === "string" ? value : JSON.stringify(value);
      })
      .join("");
}
