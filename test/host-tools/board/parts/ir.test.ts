import { describe, expect, it } from "vitest";
import { VirtualBoard, checkDescription, wireBoard } from "../../../../host-tools/board/index.ts";
import { sharpVolts, type IrGp2y0a21 } from "../../../../host-tools/board/parts/ir-gp2y0a21.ts";
import type { IrObstacle } from "../../../../host-tools/board/parts/ir-obstacle.ts";
import { VirtualClock } from "../../../../host-tools/platform/virtual-clock.ts";
import { IrDistance } from "../../../../firmware/drivers/ir-distance.ts";

describe("FC-51 obstacle module model", () => {
  function setup(extra: Record<string, unknown> = {}) {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock });
    wireBoard(board, { parts: [{ type: "ir-obstacle", id: "ir", pin: 34, ...extra }] });
    return { clock, board, part: board.part<IrObstacle>("ir") };
  }

  it("drives OUT high with nothing in front and low on an obstacle; the LED mirrors it", () => {
    const { board, part } = setup();
    const out = new board.io.Digital({ pin: 34, mode: board.io.Digital.Input });
    expect(out.read()).toBe(1);
    expect(part.snapshot()).toMatchObject({ led: false, output: 1 });
    part.setObstacle(true);
    expect(out.read()).toBe(0);
    expect(part.snapshot()).toMatchObject({ led: true, output: 0 });
    expect(board.diagnostics.of(undefined, "warning")).toEqual([]); // driven, so never floating on input-only GPIO34
  });

  it("an inverted batch (activeLow: false) drives OUT high on an obstacle", () => {
    const { board, part } = setup({ activeLow: false });
    const out = new board.io.Digital({ pin: 34, mode: board.io.Digital.Input });
    expect(out.read()).toBe(0);
    part.setObstacle(true);
    expect(out.read()).toBe(1);
    expect(part.snapshot()).toMatchObject({ led: true, output: 1 });
  });

  it("fires onReadable edges when the obstacle comes and goes", async () => {
    const { clock, board, part } = setup();
    const edges: number[] = [];
    const out = new board.io.Digital({
      pin: 34,
      mode: board.io.Digital.Input,
      edge: board.io.Digital.Rising | board.io.Digital.Falling,
      onReadable() {
        edges.push(out.read());
      },
    });
    part.setObstacle(true);
    await clock.advance(1);
    part.setObstacle(true); // no change, no edge
    await clock.advance(1);
    part.setObstacle(false);
    await clock.advance(1);
    expect(edges).toEqual([0, 1]);
  });

  it("sees things within the trim-pot range (default 20 cm, configurable)", () => {
    const { part } = setup({ rangeCm: 8 });
    part.setDistanceCm(10);
    expect(part.obstacle).toBe(false);
    part.setDistanceCm(8);
    expect(part.obstacle).toBe(true);
    const { part: standard } = setup();
    standard.setDistanceCm(20);
    expect(standard.obstacle).toBe(true);
    standard.setDistanceCm(21);
    expect(standard.obstacle).toBe(false);
  });

  it("refuses a range the trim pot cannot reach, and a non-boolean activeLow", () => {
    const report = JSON.stringify(checkDescription({ parts: [{ type: "ir-obstacle", id: "ir", pin: 34, rangeCm: 50, activeLow: "yes" }] }));
    expect(report).toMatch(/rangeCm.*2–30 cm/);
    expect(report).toMatch(/activeLow/);
  });
});

describe("Sharp GP2Y0A21YK0F model", () => {
  function setup(seed = 5) {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock, seed });
    wireBoard(board, { parts: [{ type: "ir-gp2y0a21", id: "distance", pin: 35 }] });
    return { clock, board, part: board.part<IrGp2y0a21>("distance") };
  }

  it("matches the datasheet: 0.25–0.55 V at 80 cm, a 1.65–2.15 V swing from 80 to 10 cm", () => {
    expect(sharpVolts(80)).toBeGreaterThan(0.25);
    expect(sharpVolts(80)).toBeLessThan(0.55);
    const swing = sharpVolts(10) - sharpVolts(80);
    expect(swing).toBeGreaterThan(1.65);
    expect(swing).toBeLessThan(2.15);
    for (let cm = 10; cm < 80; cm++) expect(sharpVolts(cm + 1)).toBeLessThan(sharpVolts(cm)); // falls with distance
  });

  it("folds back below ~7 cm, continuously: rising from 0 V to a peak, then following the fit", () => {
    expect(sharpVolts(0)).toBe(0);
    for (let cm = 0; cm < 7; cm += 0.5) expect(sharpVolts(cm + 0.5)).toBeGreaterThan(sharpVolts(cm));
    expect(Math.abs(sharpVolts(7 - 1e-9) - sharpVolts(7))).toBeLessThan(1e-6);
    expect(sharpVolts(7)).toBeGreaterThan(3);
    expect(sharpVolts(7)).toBeLessThan(3.3);
  });

  it("measures once per period of its own, within the datasheet's 38.3 ± 9.6 ms, and holds in between", async () => {
    const periods = Array.from({ length: 40 }, (_, seed) => setup(seed).part.periodMs);
    for (const period of periods) expect(period >= 28.7 && period <= 47.9).toBe(true);
    expect(new Set(periods).size).toBeGreaterThan(20);
    const { clock, part } = setup();
    await clock.advance(1);
    const first = part.volts;
    part.setDistanceCm(10);
    await clock.advance(part.periodMs - 2); // still inside the first measurement
    expect(part.volts).toBe(first);
    await clock.advance(2);
    expect(part.volts).toBeCloseTo(sharpVolts(10), 1);
    const held = part.volts;
    part.setDistanceCm(60);
    await clock.advance(part.periodMs / 2);
    expect(part.volts).toBe(held);
    await clock.advance(part.periodMs / 2);
    expect(part.volts).toBeCloseTo(sharpVolts(60), 1);
  });

  it("reads through the 12-bit ADC with a few LSB of noise, and one sample in ~25 caught by an LED pulse", async () => {
    const { clock, board, part } = setup();
    part.setDistanceCm(30);
    await clock.advance(40);
    const adc = new board.io.Analog({ pin: 35 });
    const codes = Array.from({ length: 4000 }, () => adc.read()!);
    const ideal = ((part.volts - 0.075) / (3.15 - 0.075)) * 4095;
    // a pulse moves the output by 80–400 mV: 107–533 codes; the ADC's own noise stays within a few dozen
    const spikes = codes.filter((code) => Math.abs(code - ideal) > 100);
    expect(spikes.length / codes.length).toBeGreaterThan(0.025);
    expect(spikes.length / codes.length).toBeLessThan(0.06);
    expect(spikes.some((code) => code > ideal) && spikes.some((code) => code < ideal)).toBe(true);
    const quiet = codes.filter((code) => Math.abs(code - ideal) <= 100);
    const mean = quiet.reduce((a, b) => a + b, 0) / quiet.length;
    const sd = Math.sqrt(quiet.reduce((a, b) => a + (b - mean) ** 2, 0) / quiet.length);
    expect(Math.abs(mean - ideal)).toBeLessThan(1);
    expect(sd).toBeGreaterThan(4);
    expect(sd).toBeLessThan(8);
  });

  it("scatters each measurement by ~10 mV and gets one in ~200 wrong altogether, reproducibly with the seed", async () => {
    const run = async (seed: number) => {
      const { clock, part } = setup(seed);
      part.setDistanceCm(25);
      const volts: number[] = [];
      for (let i = 0; i < 4000; i++) {
        await clock.advance(part.periodMs);
        volts.push(part.volts);
      }
      return volts;
    };
    const first = await run(9);
    expect(await run(9)).toEqual(first);
    const errors = first.map((v) => v - sharpVolts(25));
    const wrong = errors.filter((e) => Math.abs(e) > 0.06); // 6 sigma
    expect(wrong.length).toBeGreaterThan(8);
    expect(wrong.length).toBeLessThan(40);
    const usual = errors.filter((e) => Math.abs(e) <= 0.06);
    const sd = Math.sqrt(usual.reduce((a, e) => a + e * e, 0) / usual.length);
    expect(sd).toBeGreaterThan(0.008);
    expect(sd).toBeLessThan(0.012);
  });
});

describe("the Sharp sensor on ADC2 while Wi-Fi runs", () => {
  it("reads fail as on the ESP32 (Moddable's Analog.read() returns undefined), the board says why, and the driver reports no distance", async () => {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock });
    wireBoard(board, { parts: [{ type: "ir-gp2y0a21", id: "distance", pin: 25 }] });
    board.part<IrGp2y0a21>("distance").setDistanceCm(30);
    await clock.advance(40);
    const sensor = new IrDistance({ io: board.io.Analog, pin: 25, clock });
    await clock.advance(200);
    expect(sensor.read().cm).toBeCloseTo(30, -1); // Wi-Fi off: ADC2 converts
    board.wifiStarted();
    await clock.advance(40); // the driver's next measurement
    const reading = sensor.read();
    expect(reading.cm).toBeUndefined();
    expect(reading.volts).toBeNaN();
    expect(board.diagnostics.of("firmware", "error").map((entry) => entry.message)).toEqual([
      'GPIO25 is on ADC2, which the Wi-Fi driver holds while Wi-Fi runs: every read fails (Moddable\'s Analog.read() returns undefined and logs "analog onshot_read failed") — wire the sensor to an ADC1 pin (GPIO32–39)',
    ]);
  });
});
