import { IrDistance } from "../drivers/ir-distance.ts";
import { IrObstacle } from "../drivers/ir-obstacle.ts";
import { Keypad } from "../drivers/keypad.ts";
import { LCD } from "../drivers/lcd.ts";
import { Servo } from "../drivers/servo.ts";
import type { Platform } from "../ports/index.ts";
import type { Wiring } from "./config.ts";
import type { Devices, RangeSensor } from "./devices.ts";

/** Opens the course's parts with the drivers, on the pins the configuration names. Closing releases every pin. */
export function openDevices(platform: Platform, wiring: Wiring): Devices {
  const { io, clock } = platform;
  const opened: { close(): void }[] = [];
  try {
    const lcd = new LCD({ i2c: { io: io.I2C, ...wiring.i2c, address: wiring.lcdAddress }, clock });
    opened.push(lcd);
    // A scan every 10 ms with a 10 ms debounce: keys register within 20 ms, at half the bus traffic of 5 ms scans.
    const keypad = new Keypad({ io: io.Digital, rows: wiring.keypadRows, columns: wiring.keypadColumns, clock, scanMs: 10 });
    opened.push(keypad);
    const servo = new Servo({ io: io.PWM, pin: wiring.servoPin, minUs: wiring.servoMinUs, maxUs: wiring.servoMaxUs });
    opened.push(servo);
    let range: RangeSensor;
    if (wiring.irKind === "distance") {
      const sensor = new IrDistance({ io: io.Analog, pin: wiring.distancePin, clock });
      opened.push(sensor);
      range = {
        kind: "distance",
        read() {
          const { cm } = sensor.read();
          return { cm, obstacle: cm !== undefined && cm <= 20 };
        },
      };
    } else {
      const sensor = new IrObstacle({ io: io.Digital, pin: wiring.irPin, clock });
      opened.push(sensor);
      range = { kind: "obstacle", read: () => ({ cm: undefined, obstacle: sensor.obstacle }) };
    }
    return {
      display: lcd,
      keys: { onKey: (listener) => keypad.onKey((type, key) => type === "press" && listener(key)) },
      servo,
      range,
      close() {
        for (const device of opened.reverse()) device.close();
      },
    };
  } catch (error) {
    for (const device of opened.reverse()) device.close();
    throw error;
  }
}
