
/**
 * The ESP32's documented eFuse fields, decoded as `espefuse summary` shows them. Layout (block, word, bit, length,
 * write- and read-protect bits, descriptions) from esptool's espefuse/efuse_defs/esp32.yaml; the block read
 * addresses from espefuse/efuse/esp32/mem_definition.py (BLOCK0 at +0x000, 7 words; BLOCK1..3 at +0x038/+0x058/
 * +0x078, 8 words each); ADC_VREF, the MAC CRC and WAFER_VERSION_MAJOR as espefuse/efuse/esp32/fields.py computes them.
 */

export const EFUSE_BASE = 0x3ff5a000;
export const BLOCK_READ_OFFSETS = [0x000, 0x038, 0x058, 0x078] as const;
export const BLOCK_WORDS = [7, 8, 8, 8] as const;

export interface EfuseWords {
  /** BLOCK0..BLOCK3 as read: 7, 8, 8 and 8 words. */
  blocks: [number[], number[], number[], number[]];
  /** APB_CTL_DATE, whose bit 31 is the third bit of the wafer version. */
  apbCtlDate: number;
}

type Kind = "uint" | "bool" | "vref" | "mac" | "bytes" | "dict";
interface FieldDef { name: string; block: number; word: number; pos: number; len: number; kind: Kind; category: string; desc: string; wrDis?: number; rdDis?: number; dict?: Record<number, string> }

const f = (name: string, block: number, word: number, pos: number, len: number, kind: Kind, category: string, desc: string, wrDis?: number, rdDis?: number, dict?: Record<number, string>): FieldDef => ({ name, block, word, pos, len, kind, category, desc, wrDis, rdDis, dict });

const CODING_SCHEMES = { 0: "NONE (BLK1-3 len=256 bits)", 1: "3/4 (BLK1-3 len=192 bits)", 2: "REPEAT (BLK1-3 len=128 bits) not supported", 3: "NONE (BLK1-3 len=256 bits)" };

const FIELDS: FieldDef[] = [
  f("ADC_VREF", 0, 4, 8, 5, "vref", "calibration", "True ADC reference voltage", 4),
  f("WR_DIS", 0, 0, 0, 16, "uint", "config", "Efuse write disable mask", 1),
  f("RD_DIS", 0, 0, 16, 4, "uint", "config", "Disable reading from BlOCK1-3", 0),
  f("DISABLE_APP_CPU", 0, 3, 0, 1, "bool", "config", "Disables APP CPU", 3),
  f("DISABLE_BT", 0, 3, 1, 1, "bool", "config", "Disables Bluetooth", 3),
  f("DIS_CACHE", 0, 3, 3, 1, "bool", "config", "Disables cache", 3),
  f("CHIP_CPU_FREQ_LOW", 0, 3, 12, 1, "bool", "config", "If set alongside EFUSE_RD_CHIP_CPU_FREQ_RATED; the ESP32's max CPU frequency is rated for 160MHz. 240MHz otherwise"),
  f("CHIP_CPU_FREQ_RATED", 0, 3, 13, 1, "bool", "config", "If set; the ESP32's maximum CPU frequency has been rated"),
  f("BLK3_PART_RESERVE", 0, 3, 14, 1, "bool", "config", "BLOCK3 partially served for ADC calibration data", 10, 3),
  f("CLK8M_FREQ", 0, 4, 0, 8, "uint", "config", "8MHz clock freq override", 4),
  f("VOL_LEVEL_HP_INV", 0, 5, 22, 2, "uint", "config", "The voltage level for CPU to run at 240 MHz, or for flash/PSRAM to run at 80 MHz (0: level 7 … 3: level 4)", 3),
  f("CODING_SCHEME", 0, 6, 0, 2, "dict", "config", "Efuse variable block length scheme", 10, 3, CODING_SCHEMES),
  f("CONSOLE_DEBUG_DISABLE", 0, 6, 2, 1, "bool", "config", "Disable ROM BASIC interpreter fallback", 15),
  f("DISABLE_SDIO_HOST", 0, 6, 3, 1, "bool", "config", ""),
  f("DISABLE_DL_CACHE", 0, 6, 9, 1, "bool", "config", "Disable flash cache in UART bootloader", 15),
  f("FLASH_CRYPT_CNT", 0, 0, 20, 7, "uint", "flash", "Flash encryption is enabled if this field has an odd number of bits set", 2),
  f("FLASH_CRYPT_CONFIG", 0, 5, 28, 4, "uint", "flash", "Flash encryption config (key tweak bits)", 10, 3),
  f("CHIP_PACKAGE_4BIT", 0, 3, 2, 1, "bool", "identity", "Chip package identifier #4bit"),
  f("CHIP_PACKAGE", 0, 3, 9, 3, "uint", "identity", "Chip package identifier"),
  f("CHIP_VER_REV1", 0, 3, 15, 1, "bool", "identity", "bit is set to 1 for rev1 silicon"),
  f("CHIP_VER_REV2", 0, 5, 20, 1, "bool", "identity", ""),
  f("WAFER_VERSION_MINOR", 0, 5, 24, 2, "uint", "identity", ""),
  f("JTAG_DISABLE", 0, 6, 6, 1, "bool", "jtag", "Disable JTAG", 14),
  f("MAC", 0, 1, 0, 48, "mac", "mac", "MAC address", 3),
  f("MAC_CRC", 0, 2, 16, 8, "uint", "mac", "CRC8 for MAC address", 3),
  f("MAC_VERSION", 3, 5, 24, 8, "dict", "mac", "Version of the MAC field", 9, 2, { 1: "Custom MAC in BLOCK3" }),
  f("UART_DOWNLOAD_DIS", 0, 0, 27, 1, "bool", "security", "Disable UART download mode. Valid for ESP32 V3 and newer; only", 2),
  f("ABS_DONE_0", 0, 6, 4, 1, "bool", "security", "Secure boot V1 is enabled for bootloader image", 12),
  f("ABS_DONE_1", 0, 6, 5, 1, "bool", "security", "Secure boot V2 is enabled for bootloader image", 13),
  f("DISABLE_DL_ENCRYPT", 0, 6, 7, 1, "bool", "security", "Disable flash encryption in UART bootloader", 15),
  f("DISABLE_DL_DECRYPT", 0, 6, 8, 1, "bool", "security", "Disable flash decryption in UART bootloader", 15),
  f("KEY_STATUS", 0, 6, 10, 1, "bool", "security", "Usage of efuse block 3 (reserved)", 10, 3),
  f("SECURE_VERSION", 3, 4, 0, 32, "uint", "security", "Secure version for anti-rollback", 9, 2),
  f("BLOCK1", 1, 0, 0, 256, "bytes", "security", "Flash encryption key", 7, 0),
  f("BLOCK2", 2, 0, 0, 256, "bytes", "security", "Security boot key", 8, 1),
  f("BLOCK3", 3, 0, 0, 256, "bytes", "security", "Variable Block 3", 9, 2),
  f("SPI_PAD_CONFIG_HD", 0, 3, 4, 5, "uint", "spi pad", "read for SPI_pad_config_hd"),
  f("SPI_PAD_CONFIG_CLK", 0, 5, 0, 5, "uint", "spi pad", "Override SD_CLK pad (GPIO6/SPICLK)", 6),
  f("SPI_PAD_CONFIG_Q", 0, 5, 5, 5, "uint", "spi pad", "Override SD_DATA_0 pad (GPIO7/SPIQ)", 6),
  f("SPI_PAD_CONFIG_D", 0, 5, 10, 5, "uint", "spi pad", "Override SD_DATA_1 pad (GPIO8/SPID)", 6),
  f("SPI_PAD_CONFIG_CS0", 0, 5, 15, 5, "uint", "spi pad", "Override SD_CMD pad (GPIO11/SPICS0)", 6),
  f("XPD_SDIO_REG", 0, 4, 14, 1, "bool", "vdd sdio", "read for XPD_SDIO_REG", 5),
  f("XPD_SDIO_TIEH", 0, 4, 15, 1, "dict", "vdd sdio", "If XPD_SDIO_FORCE & XPD_SDIO_REG", 5, undefined, { 1: "3.3V", 0: "1.8V" }),
  f("XPD_SDIO_FORCE", 0, 4, 16, 1, "bool", "vdd sdio", "Ignore MTDI pin (GPIO12) for VDD_SDIO on reset", 5),
];

export interface EfuseField {
  name: string; block: number; category: string; description: string;
  /** What it means: True/False, a number, a name, a MAC with its CRC check, key bytes. */
  value: string;
  /** The raw bits as espefuse prints them: 0x… when the length is a multiple of 4, else 0b…; absent for blocks. */
  raw?: string;
  readable: boolean; writable: boolean;
}

const bits = (word: number, pos: number, len: number) => (len === 32 ? word >>> 0 : (word >>> pos) & ((1 << len) - 1));

function rawText(value: number, len: number): string {
  return len % 4 === 0 ? `0x${value.toString(16).padStart(len / 4, "0")}` : `0b${value.toString(2).padStart(len, "0")}`;
}

/** ESP-IDF's esp_crc8 as espefuse's calc_crc: CRC-8, reflected polynomial 0x8C, initial 0. */
export function macCrc(mac: number[]): number {
  let crc = 0;
  for (const byte of mac) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0x8c : crc >>> 1;
  }
  return crc;
}

/** Decodes every documented field from the words read; any 32-bit values decode (nothing here throws). */
export function decodeEfuses(words: EfuseWords): EfuseField[] {
  const word = (block: number, index: number) => (words.blocks[block]?.[index] ?? 0) >>> 0;
  const wrDis = bits(word(0, 0), 0, 16);
  const rdDis = bits(word(0, 0), 16, 4);
  const fields = FIELDS.map((def): EfuseField => {
    const readable = def.rdDis === undefined || ((rdDis >> def.rdDis) & 1) === 0;
    const writable = def.wrDis === undefined || ((wrDis >> def.wrDis) & 1) === 0;
    const base = { name: def.name, block: def.block, category: def.category, description: def.desc, readable, writable };
    if (def.kind === "bytes") {
      const bytes = Array.from({ length: 32 }, (_, i) => (word(def.block, i >> 2) >>> ((i & 3) * 8)) & 0xff);
      return { ...base, value: readable ? bytes.map((b) => b.toString(16).padStart(2, "0")).join(" ") : "?? (read-protected: the chip reads it as zeros)" };
    }
    if (def.kind === "mac") {
      const text = macText(word(0, 1), word(0, 2));
      const stored = bits(word(0, 2), 16, 8);
      const computed = macCrc(text.split(":").map((h) => Number.parseInt(h, 16)));
      return { ...base, value: `${text} ${stored === computed ? `(CRC 0x${stored.toString(16).padStart(2, "0")} OK)` : `(CRC 0x${stored.toString(16).padStart(2, "0")} invalid - calculated 0x${computed.toString(16).padStart(2, "0")})`}` };
    }
    const raw = bits(word(def.block, def.word), def.pos, def.len);
    const value = def.kind === "bool" ? (raw ? "True" : "False")
      : def.kind === "vref" ? String(1100 + (raw & 0x10 ? -(raw & 0x0f) : raw & 0x0f) * 7)
      : def.kind === "dict" ? (def.dict?.[raw] ?? String(raw))
      : String(raw);
    return { ...base, value, raw: rawText(raw, def.len) };
  });
  return [...fields, ...calculated(word, words.apbCtlDate)];
}

/** espefuse's computed identity fields: WAFER_VERSION_MAJOR and PKG_VERSION. */
function calculated(word: (block: number, index: number) => number, apbCtlDate: number): EfuseField[] {
  const combined = ((apbCtlDate >>> 31) << 2) | (bits(word(0, 5), 20, 1) << 1) | bits(word(0, 3), 15, 1);
  const major = ({ 0: 0, 1: 1, 3: 2, 7: 3 } as Record<number, number>)[combined] ?? 0;
  const pkg = (bits(word(0, 3), 2, 1) << 3) + bits(word(0, 3), 9, 3);
  const common = { block: 0, category: "identity", readable: true, writable: true };
  return [
    { ...common, name: "WAFER_VERSION_MAJOR", description: "calc WAFER VERSION MAJOR from CHIP_VER_REV1 and CHIP_VER_REV2 and apb_ctl_date (read only)", value: String(major), raw: rawText(major, 3) },
    { ...common, name: "PKG_VERSION", description: "calc Chip package = CHIP_PACKAGE_4BIT << 3 + CHIP_PACKAGE (read only)", value: String(pkg), raw: rawText(pkg, 4) },
  ];
}

const CATEGORY_ORDER = ["calibration", "config", "flash", "identity", "jtag", "mac", "security", "spi pad", "vdd sdio"];
const title = (category: string) => category.split(" ").map((w) => w[0]!.toUpperCase() + w.slice(1)).join(" ");

/** The summary in espefuse's layout: "NAME (BLOCKn): description = value R/W (raw)", by category. */
export function formatEfuseSummary(fields: EfuseField[]): string {
  const lines = ["EFUSE_NAME (Block) Description  = [Meaningful Value] [Readable/Writeable] (Hex Value)", "-".repeat(88)];
  for (const category of CATEGORY_ORDER) {
    const inCategory = fields.filter((field) => field.category === category);
    if (inCategory.length === 0) continue;
    lines.push(`${title(category)} fuses:`);
    for (const field of inCategory) {
      const access = `${field.readable ? "R" : "-"}/${field.writable ? "W" : "-"}`;
      lines.push(`${`${field.name} (BLOCK${field.block}):`.padEnd(50)} ${field.description} = ${field.value} ${access}${field.raw ? ` (${field.raw})` : ""}`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

/** The MAC from BLOCK0 words 1 and 2 (word 2's top half is a CRC). */
function macText(word1: number, word2: number): string {
  const bytes = [(word2 >> 8) & 0xff, word2 & 0xff, (word1 >>> 24) & 0xff, (word1 >> 16) & 0xff, (word1 >> 8) & 0xff, word1 & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}
