import { ESP32_APB_CTL_DATE } from "../chips/esp32.ts";
import type { EspLoader } from "../loader/esp-loader.ts";
import { BLOCK_READ_OFFSETS, BLOCK_WORDS, EFUSE_BASE, type EfuseWords } from "./esp32-efuse.ts";

/** Reads the ESP32's four eFuse blocks word by word (READ_REG only: nothing is written or burned). */
export async function readEfuseWords(loader: EspLoader): Promise<EfuseWords> {
  const blocks: number[][] = [];
  for (const [index, offset] of BLOCK_READ_OFFSETS.entries()) {
    const words: number[] = [];
    for (let i = 0; i < BLOCK_WORDS[index]!; i++) words.push(await loader.readRegister(EFUSE_BASE + offset + 4 * i));
    blocks.push(words);
  }
  return { blocks: blocks as EfuseWords["blocks"], apbCtlDate: await loader.readRegister(ESP32_APB_CTL_DATE) };
}
