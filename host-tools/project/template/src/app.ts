import { openDevices, registerApp, showLines, type App, type FirmwareConfig, type Platform } from "esplab/firmware";

/**
 * Your firmware. registerApp gives it a name ("app" in package.json picks the one to run); esplab calls the function
 * when the board starts, with the platform (pins, time, network, storage, log) and the settings. Save and the lab
 * reloads the board. What the library offers: docs/write-your-own-app.md in esplab.
 */
registerApp("__APP__", (platform: Platform, config: FirmwareConfig): App => {
  // The LCD, keypad, servo and IR sensor, on the pins of wiring.json.
  const devices = openDevices(platform, config.wiring);
  let title = "Hello!";
  let status = `${config.deviceId} ready`;
  const show = () => showLines(devices.display, title, status);
  show();

  const stopKeys = devices.keys.onKey((key) => {
    platform.log(`key ${key}`);
    status = `key ${key}`;
    const digit = Number(key);
    if (Number.isInteger(digit)) devices.servo.writeDegrees(digit * 20); // 0 → 0°, 9 → 180°
    show();
  });

  // Time goes through platform.clock, never setTimeout: scenarios and the device share one clock seam.
  const timer = platform.clock.setInterval(() => {
    const next = devices.range.read().obstacle ? "Obstacle!" : "Hello!";
    if (next !== title) {
      title = next;
      show();
    }
  }, 250);

  return {
    stop() {
      stopKeys();
      platform.clock.clear(timer);
      devices.close();
    },
  };
});
