import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withDemoTokens } from "../../../host-tools/cloud/demo-tokens.ts";
import { startLocalCloud, type LocalCloud } from "../../../host-tools/cloud/index.ts";
import { FirmwareRunner } from "../../../host-tools/lab/firmware-runner.ts";
import { VirtualDevice } from "../../../host-tools/runtime/virtual-device.ts";

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud({ databasePort: 0, authPort: 0, mqttPort: 0 });
});
afterAll(async () => {
  await cloud?.close();
});

describe("the lab's Assignment 4 tokens", () => {
  it("fills in the demo user's tokens for assignment4 on the local cloud, and the app starts with them", async () => {
    const config = await withDemoTokens(cloud, { ...cloud.firmwareConfig, app: "assignment4" });
    expect(config.firebase_refresh_token).toMatch(/.{20,}/);
    expect(String(config.firebase_id_token).split(".")).toHaveLength(3); // a JWT
    const device = new VirtualDevice({ config, engine: "node" });
    const runner = new FirmwareRunner({ device });
    await runner.rebuild();
    expect(runner.status).toEqual({ state: "running" });
    await runner.stop();
  });

  it("leaves a user's own token, another app and another Firebase alone; fills {{demo.*}} placeholders anywhere", async () => {
    const own = { ...cloud.firmwareConfig, app: "assignment4", firebase_refresh_token: "mine" };
    expect(await withDemoTokens(cloud, own)).toEqual(own);
    const other = { ...cloud.firmwareConfig, app: "assignment2" };
    expect(await withDemoTokens(cloud, other)).toEqual(other);
    const real = { app: "assignment4", firebase_auth_emulator_host: "" };
    expect(await withDemoTokens(cloud, real)).toEqual(real);
    const filled = await withDemoTokens(cloud, { ...other, firebase_refresh_token: "{{demo.refreshToken}}" });
    expect(filled.firebase_refresh_token).not.toMatch(/\{\{/);
  });
});
