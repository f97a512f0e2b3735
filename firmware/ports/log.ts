/** A line of text for the serial console: `trace()` on the device, the lab's serial log on the laptop. */
export type Log = (line: string) => void;
