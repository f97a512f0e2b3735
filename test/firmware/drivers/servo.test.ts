import { describe, expect, it } from "vitest";
import { Servo } from "../../../firmware/drivers/servo.ts";
import { VirtualBoard, wireBoard } from "../../../host-tools/board/index.ts";
import type { ServoSG90 } from "../../../host-tools/board/parts/servo-sg90.ts";
import { VirtualClock } from "../../../host-tools/platform/virtual-clock.ts";

function setup(options: { minUs?: number; maxUs?: number } = {}) {
  const clock = new VirtualClock();
  const board = new VirtualBoard({ clock });
  wireBoard(board, { parts: [{ type: "servo-sg90", id: "servo", pin: 18, ...options }] });
  return { clock, board, part: board.part<ServoSG90>("servo") };
}

describe("servo driver on the SG90 model", () => {
  it("turns to the angle at the servo's speed (0.1 s per 60°)", async () => {
    const { clock, board, part } = setup();
    const servo = new Servo({ io: board.io.PWM, pin: 18 });
    servo.writeDegrees(150); // from the 90° rest position
    await clock.advance(50);
    expect(part.angle).toBeCloseTo(120, 0);
    expect(part.snapshot().moving).toBe(true);
    await clock.advance(100);
    expect(part.angle).toBeCloseTo(150, 0);
    expect(part.snapshot().moving).toBe(false);
  });

  it("follows the calibration both ways", async () => {
    const { clock, board, part } = setup({ minUs: 544, maxUs: 2400 });
    const servo = new Servo({ io: board.io.PWM, pin: 18, minUs: 544, maxUs: 2400 });
    servo.writeDegrees(0);
    await clock.advance(500);
    expect(part.angle).toBeCloseTo(0, 0);
    servo.writeMicroseconds(1472);
    await clock.advance(500);
    expect(part.angle).toBeCloseTo(90, 0);
  });

  it("refuses angles outside 0–180 with the fix", () => {
    const { board } = setup();
    const servo = new Servo({ io: board.io.PWM, pin: 18 });
    expect(() => servo.writeDegrees(200)).toThrow(/servo angle must be 0–180°, got 200/);
    expect(() => servo.writeDegrees(-5)).toThrow(/0–180/);
  });

  it("stalls against its stop and says so when pulses exceed its range", async () => {
    const { clock, board, part } = setup({ minUs: 1000, maxUs: 2000 });
    const servo = new Servo({ io: board.io.PWM, pin: 18, minUs: 500, maxUs: 2500 }); // miscalibrated driver
    servo.writeDegrees(180);
    await clock.advance(500);
    expect(part.angle).toBe(180);
    expect(part.snapshot().stalled).toBe(true);
    expect(board.diagnostics.of("servo", "warning")[0]?.message).toMatch(/GPIO18 got a 2500 µs pulse.*end stop/);
  });

  it("reports a PWM frequency a servo cannot use, naming the pin and the fix", () => {
    const { board } = setup();
    const pwm = new board.io.PWM({ pin: 18, hz: 1000 });
    pwm.write(300);
    expect(board.diagnostics.of("servo", "error")[0]?.message).toMatch(/GPIO18 gets 1000 Hz PWM.*hz: 50/);
  });
});

describe("servo driver: bad settings name the servo, the pin and the fix", () => {
  it("refuses a frame rate a servo cannot use before opening the PWM", () => {
    const { board } = setup();
    expect(() => new Servo({ io: board.io.PWM, pin: 18, hz: 1000 })).toThrow(/servo on GPIO18: 1000 Hz .* use hz: 50/);
    expect(() => new Servo({ io: board.io.PWM, pin: 18, hz: 20 })).toThrow(/GPIO18: 20 Hz/);
    expect(new Servo({ io: board.io.PWM, pin: 18, hz: 50 })).toBeDefined(); // nothing was left open
  });

  it("names the servo when its pin cannot drive PWM or is taken", () => {
    const { board } = setup();
    expect(() => new Servo({ io: board.io.PWM, pin: 34 })).toThrow(/servo signal on GPIO34 cannot be opened: .*input-only/);
    new Servo({ io: board.io.PWM, pin: 18 });
    expect(() => new Servo({ io: board.io.PWM, pin: 18 })).toThrow(/servo signal on GPIO18 cannot be opened: .*already in use/);
  });

  it("refuses a calibration that is not a range, with the fix", () => {
    const { board } = setup();
    expect(() => new Servo({ io: board.io.PWM, pin: 18, minUs: 2400, maxUs: 544 })).toThrow(/servo on GPIO18: calibration .*SG90: 500–2500/);
  });

  it("reaches the PWM with the instance's resolution: 1500 µs at 50 Hz lands within the dead band", async () => {
    const { clock, board, part } = setup();
    const servo = new Servo({ io: board.io.PWM, pin: 18 });
    servo.writeMicroseconds(1500);
    await clock.advance(10);
    expect(Math.abs(part.snapshot().pulseUs! - 1500)).toBeLessThan(2);
    servo.writeMicroseconds(5000); // clamped to the calibration, not into the stop
    await clock.advance(300);
    expect(part.snapshot()).toMatchObject({ stalled: false, angle: 180 });
  });
});
