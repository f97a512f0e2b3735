/**
 * I2C traffic for one full 16x2 redraw (cursor to each line, 16 characters each), measured on the virtual bus:
 * esplab's LCD driver against the common three-writes-per-nibble driver (LiquidCrystal_I2C style: every expander
 * write is its own I2C transaction of one byte). Run: npm run bench:lcd
 */
import { LCD } from "../firmware/drivers/lcd.ts";
import { VirtualBoard, wireBoard } from "../host-tools/board/index.ts";
import type { Lcd1602I2C } from "../host-tools/board/parts/lcd1602-i2c.ts";
import { VirtualClock } from "../host-tools/platform/virtual-clock.ts";

const LINES = ["Temp 22.5 C  OK ", "Servo 090 deg  >"];
const HZ = 100_000;

interface Traffic {
  transactions: number;
  dataBytes: number;
  busMs: number;
}

function board() {
  const clock = new VirtualClock();
  const b = new VirtualBoard({ clock });
  wireBoard(b, { i2c: { sda: 21, scl: 22 }, parts: [{ type: "lcd1602-i2c", id: "lcd" }] });
  const part = b.part<Lcd1602I2C>("lcd");
  const traffic: Traffic = { transactions: 0, dataBytes: 0, busMs: 0 };
  const device = b.i2cBus({ sda: 21, scl: 22 }).device(0x27)!;
  const write = device.write.bind(device);
  let counting = false;
  device.write = (bytes, timing) => {
    if (counting) {
      traffic.transactions++;
      traffic.dataBytes += bytes.length;
    }
    write(bytes, timing);
  };
  return { clock, b, part, traffic, measure: (redraw: () => void) => {
    counting = true;
    const start = clock.now();
    redraw();
    traffic.busMs = clock.now() - start;
    counting = false;
  } };
}

function ours(): Traffic & { shown: string[] } {
  const { clock, b, part, traffic, measure } = board();
  const lcd = new LCD({ i2c: { io: b.io.I2C, data: 21, clock: 22, hz: HZ, address: 0x27 }, clock });
  measure(() => LINES.forEach((line, row) => { lcd.setCursor(0, row); lcd.print(line); }));
  return { ...traffic, shown: part.lines };
}

function threeWritesPerNibble(): Traffic & { shown: string[] } {
  const { clock, b, part, traffic, measure } = board();
  const i2c = new b.io.I2C({ data: 21, clock: 22, hz: HZ, address: 0x27 });
  const expander = (value: number) => i2c.write(Uint8Array.of(value | 0x08));
  const nibble = (value: number, rs: number) => {
    const lines = (value << 4) | rs;
    expander(lines);
    expander(lines | 0x04);
    expander(lines);
  };
  const send = (value: number, rs: number) => {
    nibble(value >> 4, rs);
    nibble(value & 0xf, rs);
  };
  clock.delay(50);
  expander(0);
  for (const n of [3, 3, 3, 2]) {
    nibble(n, 0);
    clock.delay(4.5);
  }
  for (const c of [0x28, 0x0c, 0x01]) send(c, 0);
  clock.delay(2);
  send(0x06, 0);
  measure(() => LINES.forEach((line, row) => {
    send(0x80 | (row * 0x40), 0);
    for (const char of line) send(char.charCodeAt(0), 1);
  }));
  return { ...traffic, shown: part.lines };
}

const results = { "esplab LCD driver": ours(), "three writes per nibble": threeWritesPerNibble() };
console.log(`Full 16x2 redraw (2 × setCursor + 32 characters) at ${HZ / 1000} kHz, counted on the virtual I2C bus\n`);
console.log("driver                     transactions  data bytes  bytes on wire*  bus time");
for (const [name, r] of Object.entries(results)) {
  const wire = r.dataBytes + r.transactions; // + one address byte per transaction
  console.log(`${name.padEnd(26)} ${String(r.transactions).padStart(12)}  ${String(r.dataBytes).padStart(10)}  ${String(wire).padStart(14)}  ${r.busMs.toFixed(2).padStart(6)} ms`);
  if (r.shown.join("|") !== LINES.join("|")) console.log(`  !! screen shows ${JSON.stringify(r.shown)}`);
}
const a = results["esplab LCD driver"];
const b = results["three writes per nibble"];
console.log(`\n* data bytes + one address byte per transaction. Per character: ${(a.dataBytes / 34).toFixed(1)} vs ${(b.dataBytes / 34).toFixed(1)} data bytes; bus time ${(b.busMs / a.busMs).toFixed(1)}× shorter.`);
