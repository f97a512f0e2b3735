/**
 * Topic names and filters (MQTT 3.1.1 §4.7): `/` separates levels, `+` matches one level, `#` the rest (only as the
 * last level), and filters that start with a wildcard do not match topics that start with `$` (`$SYS`, `$aws`).
 */
import { stringProblem } from "./strings.ts";

/** Why `topic` cannot be a PUBLISH topic name, or undefined when it can. */
export function topicNameProblem(topic: string): string | undefined {
  if (topic.length === 0) return "a topic name must not be empty";
  const wildcard = topic.search(/[+#]/);
  if (wildcard >= 0) {
    return `topic ${JSON.stringify(topic)} contains the wildcard "${topic[wildcard]}" at index ${wildcard}; wildcards belong in subscription filters, not in topics you publish to`;
  }
  const problem = stringProblem(topic);
  return problem === undefined ? undefined : `topic ${JSON.stringify(topic.slice(0, 60))} is not a valid MQTT string: ${problem}`;
}

/** Why `filter` cannot be a subscription filter, or undefined when it can. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return "a topic filter must not be empty";
  const problem = stringProblem(filter);
  if (problem !== undefined) return `filter ${JSON.stringify(filter.slice(0, 60))} is not a valid MQTT string: ${problem}`;
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) {
      return `filter ${JSON.stringify(filter)}: "#" must be a whole level and the last one (e.g. "sensor/#")`;
    }
    if (level.includes("+") && level !== "+") {
      return `filter ${JSON.stringify(filter)}: "+" must be a whole level (e.g. "sensor/+/temp", not "sensor/a+")`;
    }
  }
  return undefined;
}

/** Whether a valid `filter` matches a valid topic name. */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.charCodeAt(0) === 0x24 /* $ */ && (filter.charCodeAt(0) === 0x2b || filter.charCodeAt(0) === 0x23)) {
    return false;
  }
  let f = 0;
  let t = 0;
  for (;;) {
    const fEnd = nextSlash(filter, f);
    const level = filter.slice(f, fEnd);
    if (level === "#") return true; // also matches the parent level: "a/#" matches "a"
    if (t > topic.length) return false;
    const tEnd = nextSlash(topic, t);
    if (level !== "+" && level !== topic.slice(t, tEnd)) return false;
    const filterDone = fEnd === filter.length;
    const topicDone = tEnd === topic.length;
    if (filterDone || topicDone) {
      if (filterDone && topicDone) return true;
      // "a/#" must still match "a": the filter's next and last level is "#"
      return topicDone && filter.slice(fEnd + 1) === "#";
    }
    f = fEnd + 1;
    t = tEnd + 1;
  }
}

function nextSlash(text: string, from: number): number {
  const at = text.indexOf("/", from);
  return at < 0 ? text.length : at;
}

/** How many `/` a topic or filter has (AWS IoT allows at most 7). */
export function slashCount(topic: string): number {
  let count = 0;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 0x2f) count++;
  return count;
}
