import { describe, expect, it } from "vitest";
import { VirtualBoard, checkDescription, wireBoard } from "../../../../host-tools/board/index.ts";
import type { ServoSG90 } from "../../../../host-tools/board/parts/servo-sg90.ts";
import { VirtualClock } from "../../../../host-tools/platform/virtual-clock.ts";

function setup(options: { minUs?: number; maxUs?: number; hz?: number } = {}) {
  const clock = new VirtualClock();
  const board = new VirtualBoard({ clock });
  const { hz = 50, ...calibration } = options;
  wireBoard(board, { parts: [{ type: "servo-sg90", id: "servo", pin: 18, ...calibration }] });
  const pwm = new board.io.PWM({ pin: 18, hz, resolution: 16 });
  /** Raw pulse of `us` microseconds at the PWM's frame rate. */
  const pulse = (us: number) => pwm.write(Math.round((us / (1_000_000 / hz)) * 65535));
  return { clock, board, part: board.part<ServoSG90>("servo"), pulse };
}

describe("SG90 servo model", () => {
  it("maps 500 µs → 0°, 1500 µs → 90°, 2500 µs → 180° by default", async () => {
    const { clock, part, pulse } = setup();
    for (const [us, degrees] of [[500, 0], [1500, 90], [2500, 180], [1000, 45]] as const) {
      pulse(us);
      await clock.advance(400);
      expect(part.angle).toBeCloseTo(degrees, 0);
    }
  });

  it("takes ~0.1 s per 60° and reports moving until it arrives", async () => {
    const { clock, part, pulse } = setup();
    pulse(500); // 90° → 0°: 150 ms
    await clock.advance(100);
    expect(part.angle).toBeCloseTo(30, 0);
    expect(part.snapshot()).toMatchObject({ moving: true, target: 0 });
    await clock.advance(50);
    expect(part.snapshot()).toMatchObject({ moving: false, stalled: false });
    expect(part.angle).toBeCloseTo(0, 1);
  });

  it("ignores changes inside its ~5 µs dead band", async () => {
    const { clock, part, pulse } = setup();
    pulse(1500);
    await clock.advance(10);
    const settled = part.snapshot().target;
    pulse(1503);
    expect(part.snapshot().target).toBe(settled);
    pulse(1520);
    expect(part.snapshot().target).toBeCloseTo(91.8, 1);
  });

  it("uses a custom calibration (544–2400 µs)", async () => {
    const { clock, part, pulse } = setup({ minUs: 544, maxUs: 2400 });
    pulse(2400);
    await clock.advance(300);
    expect(part.angle).toBeCloseTo(180, 0);
    expect(part.snapshot().stalled).toBe(false);
  });

  it("stalls at the hard stop on a pulse beyond the calibration, and says so", async () => {
    const { clock, board, part, pulse } = setup({ minUs: 1000, maxUs: 2000 });
    pulse(2300);
    await clock.advance(300);
    expect(part.snapshot()).toMatchObject({ angle: 180, stalled: true, pulseUs: expect.closeTo(2300, 0) });
    expect(board.diagnostics.of("servo", "warning")[0]?.message).toMatch(/GPIO18.*2300 µs.*1000–2000 µs.*stalls/);
    pulse(1500);
    expect(part.snapshot().stalled).toBe(false);
  });

  it("reports frame rates a servo cannot use, naming the pin and the fix, and does not follow them", async () => {
    for (const hz of [20, 1000]) {
      const { clock, board, part, pulse } = setup({ hz });
      pulse(hz === 20 ? 2000 : 400);
      await clock.advance(300);
      expect(board.diagnostics.of("servo", "error")[0]?.message).toMatch(new RegExp(`GPIO18 gets ${hz} Hz.*hz: 50`));
      expect(part.angle).toBe(90);
    }
    const { board, pulse } = setup({ hz: 100 }); // fast analog-servo frames are fine
    pulse(1500);
    expect(board.diagnostics.of("servo", "error")).toEqual([]);
  });

  it("stops driving when the pulses stop, staying where it is", async () => {
    const { clock, part, pulse } = setup();
    pulse(2500);
    await clock.advance(50); // 30° on the way
    pulse(0);
    await clock.advance(500);
    expect(part.angle).toBeCloseTo(120, 0);
    expect(part.snapshot()).toMatchObject({ powered: false, moving: false });
  });

  it("checks its calibration in the description", () => {
    const report = JSON.stringify(checkDescription({ parts: [{ type: "servo-sg90", id: "servo", pin: 18, minUs: 2000, maxUs: 1000 }] }));
    expect(report).toMatch(/minUs.*maxUs/);
  });
});
