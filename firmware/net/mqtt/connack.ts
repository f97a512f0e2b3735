/** CONNACK return codes (MQTT 3.1.1 §3.2.2.3), each with what it means and what to do about it. */
import { MqttConnectionRefusedError } from "./errors.ts";

const REFUSALS: Record<number, { meaning: string; fix: string; permanent: boolean }> = Object.freeze({
  1: Object.freeze({
    meaning: "unacceptable protocol version: the broker does not speak MQTT 3.1.1",
    fix: "use a broker that supports MQTT 3.1.1 (protocol level 4), or enable 3.1.1 in its configuration",
    permanent: true,
  }),
  2: Object.freeze({
    meaning: "identifier rejected: the broker does not accept this client id",
    fix: "use 1–23 characters of 0-9a-zA-Z (any broker must accept those), and make sure no other device uses the same id",
    permanent: true,
  }),
  3: Object.freeze({
    meaning: "server unavailable: the broker is up but the MQTT service is not",
    fix: "nothing to change on the device; it retries with backoff — check the broker's logs if it persists",
    permanent: false,
  }),
  4: Object.freeze({
    meaning: "bad user name or password",
    fix: "check the user name and password in the device configuration against the broker's user list",
    permanent: true,
  }),
  5: Object.freeze({
    meaning: "not authorized: the broker refuses this client",
    fix: "give credentials the broker accepts, or grant this client id access in the broker's ACL/policy (for AWS IoT: attach a policy allowing iot:Connect for this client id to the certificate)",
    permanent: true,
  }),
});

/** Whether retrying the same CONNECT can succeed without a change of configuration. */
export function isPermanentRefusal(returnCode: number): boolean {
  return REFUSALS[returnCode]?.permanent ?? true;
}

export function explainConnack(returnCode: number, broker: string): MqttConnectionRefusedError {
  const refusal = REFUSALS[returnCode];
  const text = refusal
    ? `${broker} refused the connection (CONNACK ${returnCode}, ${refusal.meaning}); ${refusal.fix}`
    : `${broker} refused the connection with CONNACK code ${returnCode}, which MQTT 3.1.1 does not define`;
  return new MqttConnectionRefusedError(returnCode, text);
}
