/** USB-UART bridges found on ESP32 boards, by USB vendor:product id. */
export interface UsbAdapter {
  label: string;
  /** Something a user should know about this adapter. */
  note?: string;
  /** Espressif's built-in USB-Serial/JTAG: needs its own reset sequence. */
  usbJtag?: boolean;
  /** The chip's own USB-OTG port in download mode (CDC-ACM from its ROM): smaller blocks. */
  usbOtg?: boolean;
}

const ADAPTERS: Record<string, UsbAdapter> = {
  "10c4:ea60": { label: "Silicon Labs CP210x" },
  "1a86:7523": { label: "WCH CH340", note: "often unreliable above 460800 baud; esplab falls back to a lower rate" },
  "1a86:55d4": { label: "WCH CH9102" },
  "0403:6001": { label: "FTDI FT232R" },
  "0403:6010": { label: "FTDI FT2232" },
  "0403:6015": { label: "FTDI FT231X" },
  "303a:1001": { label: "Espressif USB-Serial/JTAG", note: "built into the ESP32-S3, C3 and C6; reset with the USB-JTAG sequence, watchdogs off while flashing", usbJtag: true },
  "303a:0002": { label: "ESP32-S2 USB-OTG (ROM download mode)", note: "the S2's own USB port; 2 KB blocks", usbOtg: true },
  "303a:0009": { label: "ESP32-S3 USB-OTG (ROM download mode)", note: "the S3's own USB-OTG port; 2 KB blocks", usbOtg: true },
};

export function knownAdapter(vendorId: string | undefined, productId: string | undefined): UsbAdapter | undefined {
  if (!vendorId || !productId) return undefined;
  return ADAPTERS[`${vendorId.toLowerCase()}:${productId.toLowerCase()}`];
}
