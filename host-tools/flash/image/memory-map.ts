/** Address ranges and names from esptool's target memory maps (ESP32 and ESP32-S2). */
const MAPS: Record<number, [number, number, string][]> = {
  0: [
    [0x00000000, 0x00010000, "PADDING"], [0x3f400000, 0x3f800000, "DROM"], [0x3f800000, 0x3fc00000, "EXTRAM_DATA"],
    [0x3ff80000, 0x3ff82000, "RTC_DRAM"], [0x3ff90000, 0x40000000, "BYTE_ACCESSIBLE"], [0x3ffae000, 0x40000000, "DRAM"],
    [0x3ffe0000, 0x3ffffffc, "DIRAM_DRAM"], [0x40000000, 0x40070000, "IROM"], [0x40070000, 0x40078000, "CACHE_PRO"],
    [0x40078000, 0x40080000, "CACHE_APP"], [0x40080000, 0x400a0000, "IRAM"], [0x400a0000, 0x400bfffc, "DIRAM_IRAM"],
    [0x400c0000, 0x400c2000, "RTC_IRAM"], [0x400d0000, 0x40400000, "IROM"], [0x50000000, 0x50002000, "RTC_DATA"],
  ],
  2: [
    [0x00000000, 0x00010000, "PADDING"], [0x3f000000, 0x3ff80000, "DROM"], [0x3f500000, 0x3ff80000, "EXTRAM_DATA"],
    [0x3ff9e000, 0x3ffa0000, "RTC_DRAM"], [0x3ff9e000, 0x40000000, "BYTE_ACCESSIBLE"], [0x3ff9e000, 0x40072000, "MEM_INTERNAL"],
    [0x3ffb0000, 0x40000000, "DRAM"], [0x40000000, 0x4001a100, "IROM_MASK"], [0x40020000, 0x40070000, "IRAM"],
    [0x40070000, 0x40072000, "RTC_IRAM"], [0x40080000, 0x40800000, "IROM"], [0x50000000, 0x50002000, "RTC_DATA"],
  ],
};

export function memoryTypes(chipId: number, address: number): string[] {
  return (MAPS[chipId] ?? []).filter(([start, end]) => address >= start && address < end).map(([, , name]) => name);
}
