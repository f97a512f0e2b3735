import { describe, expect, it } from "vitest";
import { appNames, registerApp } from "../../../firmware/apps/index.ts";
import { UsageError } from "../../../firmware/core/errors.ts";

describe("registerApp", () => {
  it("takes each name once, and only names a config file can hold", () => {
    const factory = () => ({ stop() {} });
    registerApp("unit-test_app1", factory);
    registerApp("unit-test_app1", factory); // the same module loaded again is no conflict
    expect(appNames()).toContain("unit-test_app1");
    expect(() => registerApp("unit-test_app1", () => ({ stop() {} }))).toThrow(/two apps are registered as "unit-test_app1": give each app its own name/);
    for (const bad of ["", "-lead", "has space", "x".repeat(65), "ünï"]) expect(() => registerApp(bad, factory), bad).toThrow(UsageError);
    expect(() => registerApp("no-factory", undefined as never)).toThrow(/needs a function \(platform, config\) => app/);
    registerApp("9-lives", factory);
  });
});
