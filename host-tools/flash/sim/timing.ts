/**
 * The simulator's timing model (used when timeScale > 0; every duration is multiplied by it).
 *
 * Modelled:
 * - the UART: 10 bit times per byte at the negotiated baud, each direction (uart.ts);
 * - the SPI flash: a W25Q32JV's typical erase and program times (FLASH_TIMING in spi-flash.ts), the ROM erasing the
 *   whole region before it answers FLASH_BEGIN, the stub erasing just ahead and programming while the next block
 *   arrives;
 * - the USB-serial adapter: each transfer waits for a USB full-speed frame (1 ms), so every command/answer turn costs
 *   at least 1 ms each way. CP210x and CH340 bridges flush per frame; an FTDI bridge with its default 16 ms latency
 *   timer is slower still, so this is the optimistic end of real adapters (an estimate, not measured here);
 * - on-chip decompression: the stub and the ROM inflate FLASH_DEFL_DATA before programming it, at an assumed
 *   2 MB/s of output (miniz's tinfl on the ESP32's CPU; an estimate, not measured here).
 *
 * Left out, so the absolute figures remain a lower bound for a real board: the ROM's and stub's own per-command CPU
 * time besides inflating, cache and flash-chip status polling, the host's operating system scheduling, USB frames
 * carrying more than one transfer's worth of latency under load, and the reset and sync handshake's real delays.
 */
export const HOST_LINK_TIMING = {
  /** One USB full-speed frame: the earliest an adapter passes a transfer on, in each direction. */
  usbFrameMs: 1,
} as const;

export const CHIP_TIMING = {
  /** Inflated output bytes per ms (2 MB/s, an estimate). */
  inflateBytesPerMs: 2048,
} as const;
