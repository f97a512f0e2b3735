import "./parts/index.ts";
export { VirtualBoard, type Part, type PwmSignal } from "./board.ts";
export { checkDescription, registerPartKind, wireBoard, type BoardDescription, type PartSpec } from "./description.ts";
export { LAB_WIRING } from "./lab-wiring.ts";
export { DigitalMode } from "./io.ts";
export { I2CNackError, type I2CDevice, type TransferTiming } from "./i2c-bus.ts";
export { WiringError } from "./wiring-error.ts";
