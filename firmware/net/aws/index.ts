export { AWS_IOT_LIMITS, AWS_MQTT_ALPN, awsIotClientOptions, awsIotTarget, checkThingName, createAwsIotClient, type AwsIotOptions } from "./iot-core.ts";
export {
  DeviceShadow,
  ShadowRejectedError,
  SHADOW_MAX_DEPTH,
  SHADOW_MAX_IN_FLIGHT,
  SHADOW_STATE_LIMIT,
  type DeviceShadowOptions,
  type ShadowDelta,
  type ShadowDocument,
  type ShadowDocuments,
  type ShadowState,
  type JsonValue,
} from "./shadow.ts";
export { DeviceJobs, JobRejectedError, type DeviceJobsOptions, type JobExecution, type JobHandler, type JobOutcome } from "./jobs.ts";
