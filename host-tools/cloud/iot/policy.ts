/**
 * AWS IoT Core policies for the common cases (iot-policies, iot-policy-actions, iot-policy-variables): statements
 * with Effect Allow/Deny, Action `iot:Connect|Publish|Subscribe|Receive` (or `iot:*`), Resource ARNs
 * `arn:aws:iot:<region>:<account>:client/<id>`, `topic/<topic>`, `topicfilter/<filter>`, with `*` and `?` wildcards
 * and the variables `${iot:Connection.Thing.ThingName}` and `${iot:ClientId}`. An explicit Deny wins over any Allow;
 * with no matching Allow the action is denied. A statement whose variable cannot be resolved matches nothing.
 * In topicfilter resources MQTT's `+` and `#` are plain characters, as in AWS.
 */
import { UsageError } from "../../../firmware/core/errors.ts";

export type IotAction = "iot:Connect" | "iot:Publish" | "iot:Subscribe" | "iot:Receive";

export interface PolicyStatement {
  Effect: "Allow" | "Deny";
  Action: string | string[];
  Resource: string | string[];
}

export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}

export interface PolicyContext {
  region: string;
  account: string;
  clientId: string;
  thingName?: string;
}

/** The policy `esplab iot create-thing` attaches: a thing connects as itself and uses its own topics. */
export function defaultThingPolicy(): PolicyDocument {
  const thing = "${iot:Connection.Thing.ThingName}";
  const arn = "arn:aws:iot:*:*:";
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: "iot:Connect", Resource: `${arn}client/${thing}` },
      {
        Effect: "Allow",
        Action: ["iot:Publish", "iot:Receive"],
        Resource: [`${arn}topic/$aws/things/${thing}/*`, `${arn}topic/sensor/${thing}`, `${arn}topic/sensor/${thing}/*`, `${arn}topic/status/${thing}`, `${arn}topic/status/${thing}/*`, `${arn}topic/cmd/${thing}/*`],
      },
      {
        Effect: "Allow",
        Action: "iot:Subscribe",
        Resource: [`${arn}topicfilter/$aws/things/${thing}/*`, `${arn}topicfilter/cmd/${thing}/*`],
      },
    ],
  };
}

/** Checks a policy document's shape; throws UsageError naming what is wrong. */
export function checkPolicy(document: unknown, name: string): PolicyDocument {
  const fail = (what: string) => {
    throw new UsageError("bad-policy", `policy ${name}: ${what} (an AWS IoT policy is {"Version": "2012-10-17", "Statement": [{"Effect", "Action", "Resource"}]})`);
  };
  if (typeof document !== "object" || document === null) fail("not a JSON object");
  const statements = (document as PolicyDocument).Statement;
  if (!Array.isArray(statements) || !statements.length) fail("Statement must be a non-empty list");
  statements.forEach((statement, index) => {
    if (statement?.Effect !== "Allow" && statement?.Effect !== "Deny") fail(`Statement ${index + 1}: Effect must be "Allow" or "Deny"`);
    for (const field of ["Action", "Resource"] as const) {
      const value = statement[field];
      if (!(typeof value === "string" || (Array.isArray(value) && value.length && value.every((item) => typeof item === "string")))) fail(`Statement ${index + 1}: ${field} must be a string or a list of strings`);
    }
  });
  return document as PolicyDocument;
}

/** Whether the policies allow the action on the resource (a client id, a topic or a topic filter). */
export function isAllowed(policies: PolicyDocument[], action: IotAction, resource: string, context: PolicyContext): boolean {
  const kind = action === "iot:Connect" ? "client" : action === "iot:Subscribe" ? "topicfilter" : "topic";
  const arn = `arn:aws:iot:${context.region}:${context.account}:${kind}/${resource}`;
  let allowed = false;
  for (const policy of policies) {
    for (const statement of policy.Statement) {
      if (!list(statement.Action).some((pattern) => wildcard(pattern, action))) continue;
      const matches = list(statement.Resource).some((pattern) => {
        const resolved = substitute(pattern, context);
        return resolved !== undefined && wildcard(resolved, arn);
      });
      if (!matches) continue;
      if (statement.Effect === "Deny") return false;
      allowed = true;
    }
  }
  return allowed;
}

function list(value: string | string[]): string[] {
  return typeof value === "string" ? [value] : value;
}

function substitute(pattern: string, context: PolicyContext): string | undefined {
  let unresolved = false;
  const out = pattern.replace(/\$\{([^}]*)\}/g, (_all, name: string) => {
    const value = name === "iot:Connection.Thing.ThingName" ? context.thingName : name === "iot:ClientId" ? context.clientId : undefined;
    if (value === undefined) unresolved = true;
    return value ?? "";
  });
  return unresolved ? undefined : out;
}

/** IAM-style matching: `*` any run of characters (slashes too), `?` one character; at worst pattern × text steps, never exponential. */
export function wildcard(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}
