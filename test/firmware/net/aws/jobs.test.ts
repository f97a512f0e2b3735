import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AWS_IOT_LIMITS } from "../../../../firmware/net/aws/iot-core.ts";
import { DeviceJobs, type JobExecution, type JobOutcome } from "../../../../firmware/net/aws/jobs.ts";
import { MqttClient } from "../../../../firmware/net/mqtt/client.ts";
import { JobsService } from "../../../../host-tools/cloud/iot/jobs-service.ts";
import { NodeTransport } from "../../../../host-tools/platform/node-transport.ts";
import { SystemClock } from "../../../../host-tools/platform/system-clock.ts";
import { startAedes, waitFor, type TestBroker } from "../mqtt/brokers.ts";

let broker: TestBroker;
let service: JobsService;
const clock = new SystemClock();
const clients: MqttClient[] = [];

async function connect(clientId = "lab-thing"): Promise<MqttClient> {
  const client = new MqttClient({ transport: new NodeTransport(), clock, target: { host: "127.0.0.1", port: broker.port }, clientId, limits: AWS_IOT_LIMITS, reconnect: false });
  clients.push(client);
  await client.connect();
  return client;
}

function execution(jobId: string) {
  return service.jobs().find((entry) => entry.job.jobId === jobId)!.executions[0]!;
}

beforeEach(async () => {
  broker = await startAedes();
  service = new JobsService(broker.aedes);
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  service.close();
  await broker.close();
});

// https://docs.aws.amazon.com/iot/latest/developerguide/jobs-mqtt-api.html and jobs-comm-notifications.html
describe("DeviceJobs against the local AWS IoT Core's Jobs service", () => {
  it("runs the jobs queued before it started, in order, then one that arrives while idle", async () => {
    service.createJob("first", ["lab-thing"], { operation: "set-interval", interval_ms: 5000 });
    service.createJob("second", ["lab-thing", "other-thing"], { operation: "set-interval", interval_ms: 1000 });
    const ran: string[] = [];
    const client = await connect();
    const jobs = new DeviceJobs({ client, clock, thingName: "lab-thing", handler: (job) => (ran.push(`${job.jobId}:${job.status}:${job.jobDocument!.interval_ms}`), { status: "SUCCEEDED" }) });
    await jobs.start();
    await waitFor(() => execution("second").status === "SUCCEEDED", "both jobs to finish");
    expect(ran).toEqual(["first:IN_PROGRESS:5000", "second:IN_PROGRESS:1000"]);
    expect(execution("first")).toMatchObject({ status: "SUCCEEDED", versionNumber: 3 });
    // other-thing has not run its execution: the job is not complete
    expect(service.jobs().find((entry) => entry.job.jobId === "second")!.job.status).toBe("IN_PROGRESS");
    expect(service.jobs().find((entry) => entry.job.jobId === "first")!.job.status).toBe("COMPLETED");

    service.createJob("third", ["lab-thing"], { operation: "set-interval", interval_ms: 250 });
    await waitFor(() => execution("third").status === "SUCCEEDED", "notify-next to wake the idle device");
    expect(ran.at(-1)).toBe("third:IN_PROGRESS:250");
  });

  it("reports REJECTED with the handler's reasons, FAILED when the handler throws, and goes on", async () => {
    service.createJob("bad-document", ["lab-thing"], { operation: "format-disk" });
    service.createJob("crashes", ["lab-thing"], { operation: "set-interval" });
    service.createJob("fine", ["lab-thing"], { operation: "set-interval", interval_ms: 100 });
    const client = await connect();
    const handler = (job: JobExecution): JobOutcome => {
      if (job.jobDocument!.operation !== "set-interval") return { status: "REJECTED", statusDetails: { reason: "unknown operation" } };
      if (job.jobDocument!.interval_ms === undefined) throw new Error("interval_ms missing");
      return { status: "SUCCEEDED" };
    };
    await new DeviceJobs({ client, clock, thingName: "lab-thing", handler }).start();
    await waitFor(() => execution("fine").status === "SUCCEEDED", "the last job");
    expect(execution("bad-document")).toMatchObject({ status: "REJECTED", statusDetails: { reason: "unknown operation" } });
    expect(execution("crashes")).toMatchObject({ status: "FAILED", statusDetails: { error: "interval_ms missing" } });
  });

  it("the service answers AWS's errors: a final execution, a stale expectedVersion, an unknown job, bad JSON", async () => {
    service.createJob("once", ["lab-thing"], { operation: "noop" });
    const client = await connect();
    const answers: { topic: string; body: any }[] = [];
    await client.subscribe("$aws/things/lab-thing/jobs/#", (message) => answers.push({ topic: message.topic, body: JSON.parse(new TextDecoder().decode(message.payload)) }), { qos: 1 });
    const send = (topic: string, body: unknown) => client.publish(`$aws/things/lab-thing/jobs/${topic}`, typeof body === "string" ? body : JSON.stringify(body), { qos: 1 });
    await send("once/update", { status: "IN_PROGRESS", expectedVersion: 7, clientToken: "a" });
    await send("once/update", { status: "SUCCEEDED", expectedVersion: 1, clientToken: "b" });
    await send("once/update", { status: "IN_PROGRESS", clientToken: "c" });
    await send("nope/get", { clientToken: "d" });
    await send("get", "{not json");
    await waitFor(() => answers.filter((a) => a.topic.endsWith("/rejected")).length === 4, "four rejections");
    const byToken = (token: string) => answers.find((a) => a.body.clientToken === token && /\/(accepted|rejected)$/.test(a.topic))!;
    expect(byToken("a").body).toMatchObject({ code: "VersionMismatch", executionState: { status: "QUEUED", versionNumber: 1 } });
    expect(byToken("b").topic).toBe("$aws/things/lab-thing/jobs/once/update/accepted");
    expect(byToken("c").body).toMatchObject({ code: "InvalidStateTransition", executionState: { status: "SUCCEEDED" } });
    expect(byToken("d").body).toMatchObject({ code: "ResourceNotFound" });
    expect(answers.find((a) => a.topic === "$aws/things/lab-thing/jobs/get/rejected")!.body).toMatchObject({ code: "InvalidJson" });
    // the notifications that went with it: queued, then nothing pending
    expect(answers.filter((a) => a.topic.endsWith("/notify")).at(-1)!.body.jobs).toEqual({});
  });

  it("a canceled job's execution is never started", async () => {
    service.createJob("later", ["lab-thing"], { operation: "noop" });
    service.cancelJob("later");
    const ran: string[] = [];
    const client = await connect();
    await new DeviceJobs({ client, clock, thingName: "lab-thing", handler: (job) => (ran.push(job.jobId), { status: "SUCCEEDED" }) }).start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ran).toEqual([]);
    expect(execution("later").status).toBe("CANCELED");
    expect(() => service.createJob("later", ["lab-thing"], {})).toThrow(/job later exists/);
    expect(() => service.createJob("bad id", ["lab-thing"], {})).toThrow(/must be 1–64 characters/);
  });
});
