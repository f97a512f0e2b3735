import { describe, expect, it } from "vitest";
import { centimetres, IrDistance } from "../../../firmware/drivers/ir-distance.ts";
import { IrObstacle } from "../../../firmware/drivers/ir-obstacle.ts";
import { VirtualBoard, wireBoard } from "../../../host-tools/board/index.ts";
import { sharpVolts, type IrGp2y0a21 } from "../../../host-tools/board/parts/ir-gp2y0a21.ts";
import type { IrObstacle as IrObstaclePart } from "../../../host-tools/board/parts/ir-obstacle.ts";
import { VirtualClock } from "../../../host-tools/platform/virtual-clock.ts";

describe("FC-51 obstacle module and driver", () => {
  function setup(activeLow?: boolean) {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock });
    wireBoard(board, { parts: [{ type: "ir-obstacle", id: "ir", pin: 34, ...(activeLow === undefined ? {} : { activeLow }) }] });
    return { clock, board, part: board.part<IrObstaclePart>("ir") };
  }

  it("pulls OUT low on an obstacle, and the inverted batch pulls it high", () => {
    for (const [activeLow, level] of [[true, 0], [false, 1]] as const) {
      const { board, part } = setup(activeLow);
      const pin = new board.io.Digital({ pin: 34, mode: board.io.Digital.Input });
      part.setObstacle(true);
      expect(pin.read()).toBe(level);
      expect(part.snapshot().led).toBe(true);
    }
  });

  it("sees an obstacle within its trim-pot range only", () => {
    const { part } = setup();
    part.setDistanceCm(35);
    expect(part.obstacle).toBe(false);
    part.setDistanceCm(12);
    expect(part.obstacle).toBe(true);
  });

  it("the driver debounces edges and reports each real change once", async () => {
    const { clock, board, part } = setup();
    const changes: boolean[] = [];
    const sensor = new IrObstacle({ io: board.io.Digital, pin: 34, clock, onChange: (o) => changes.push(o) });
    part.setObstacle(true);
    await clock.advance(5);
    part.setObstacle(false); // chatter at the edge of the range
    await clock.advance(5);
    part.setObstacle(true);
    await clock.advance(50);
    expect(changes).toEqual([true]);
    expect(sensor.obstacle).toBe(true);
  });
});

describe("Sharp GP2Y0A21 sensor and driver", () => {
  function setup() {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock, seed: 3 });
    wireBoard(board, { parts: [{ type: "ir-gp2y0a21", id: "distance", pin: 35 }] });
    return { clock, board, part: board.part<IrGp2y0a21>("distance") };
  }

  it("follows the datasheet curve: ~2.3 V at 10 cm, ~0.45 V at 80 cm, folding back below 7 cm", () => {
    expect(sharpVolts(10)).toBeCloseTo(2.29, 2);
    expect(sharpVolts(80)).toBeCloseTo(0.45, 2);
    expect(sharpVolts(4)).toBeLessThan(sharpVolts(7));
    const close = sharpVolts(3);
    const twin = 21 / (close - 0.19); // the distance in the normal range with the same voltage
    expect(twin).toBeGreaterThan(10);
    expect(sharpVolts(twin)).toBeCloseTo(close, 6); // one voltage, two distances
  });

  it("holds its output for its measurement period", async () => {
    const { clock, part } = setup();
    const before = part.volts;
    part.setDistanceCm(15);
    expect(part.volts).toBe(before);
    await clock.advance(part.periodMs);
    expect(part.volts).toBeCloseTo(sharpVolts(15), 1);
  });

  it("the driver reads centimetres within 5%, a change showing within 250 ms", async () => {
    const { clock, board, part } = setup();
    const sensor = new IrDistance({ io: board.io.Analog, pin: 35, clock });
    for (const cm of [12, 25, 40, 70, 20]) {
      part.setDistanceCm(cm);
      await clock.advance(250);
      const reading = sensor.read();
      expect(reading.cm).toBeDefined();
      expect(Math.abs(reading.cm! - cm) / cm).toBeLessThan(0.05);
    }
    sensor.close();
  });

  it("an unfiltered read is wrong now and then (pulse spikes, wrong measurements); the driver's readings never are", async () => {
    const { clock, board, part } = setup();
    const sensor = new IrDistance({ io: board.io.Analog, pin: 35, clock });
    // the same sensor on a second board, read once per reading as analogRead() sketches do
    const unfiltered = setup();
    const raw = new unfiltered.board.io.Analog({ pin: 35 });
    const naiveCm = () => centimetres(0.075 + (raw.read()! / 4095) * (3.15 - 0.075));
    let reads = 0;
    let naiveWrong = 0;
    let driverWrong = 0;
    for (const cm of [15, 30, 45, 60]) {
      part.setDistanceCm(cm);
      unfiltered.part.setDistanceCm(cm);
      await Promise.all([clock.advance(300), unfiltered.clock.advance(300)]);
      for (let i = 0; i < 6000; i++) { // 5 virtual minutes at each distance, a read every 50 ms
        await Promise.all([clock.advance(50), unfiltered.clock.advance(50)]);
        reads++;
        const off = (value: number | undefined) => value === undefined || Math.abs(value - cm) / cm > 0.15;
        if (off(naiveCm())) naiveWrong++;
        if (off(sensor.read().cm)) driverWrong++;
      }
    }
    expect(naiveWrong / reads).toBeGreaterThan(0.01);
    expect(driverWrong).toBe(0);
    sensor.close();
  }, 60_000);

  it("says 'out of range' instead of inventing a distance", () => {
    expect(centimetres(sharpVolts(120))).toBeUndefined();
    expect(centimetres(3.2)).toBeUndefined();
  });

  it("warns about an analog sensor on an ADC2 pin", () => {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock });
    wireBoard(board, { parts: [{ type: "ir-gp2y0a21", id: "distance", pin: 25 }] });
    expect(board.diagnostics.of("wiring", "warning")[0]?.message).toMatch(/GPIO25 is on ADC2.*Wi-Fi/);
  });
});

describe("IR drivers: wiring mistakes name the sensor and the pin", () => {
  it("the obstacle driver names its OUT pin when the pin is taken or does not exist", () => {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock });
    new board.io.Digital({ pin: 34, mode: board.io.Digital.Input });
    expect(() => new IrObstacle({ io: board.io.Digital, pin: 34, clock })).toThrow(/IR obstacle sensor OUT on GPIO34 cannot be opened: .*already in use/);
    expect(() => new IrObstacle({ io: board.io.Digital, pin: 24, clock })).toThrow(/GPIO24 .*does not exist/);
  });

  it("the distance driver names its Vo pin and the fix when the pin has no ADC", () => {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock });
    expect(() => new IrDistance({ io: board.io.Analog, pin: 23, clock })).toThrow(/IR distance sensor Vo on GPIO23 cannot be opened: .*ADC1 pin/);
  });
});
