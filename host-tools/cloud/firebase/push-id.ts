import crypto from "node:crypto";

const PUSH_CHARS = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

/**
 * Firebase push ids: 8 characters of milliseconds then 12 random ones, in an alphabet that sorts like the numbers
 * it encodes, so keys sort by creation time; ids made in the same millisecond increment the random part.
 */
export function pushIdGenerator(now: () => number): () => string {
  let lastTime = -1;
  let lastRandom: number[] = [];
  return () => {
    let time = now();
    const duplicate = time === lastTime;
    lastTime = time;
    const timeChars = new Array<string>(8);
    for (let i = 7; i >= 0; i--) {
      timeChars[i] = PUSH_CHARS[time % 64]!;
      time = Math.floor(time / 64);
    }
    if (!duplicate) lastRandom = [...crypto.randomBytes(12)].map((byte) => byte % 64);
    else {
      let i = 11;
      while (i >= 0 && lastRandom[i] === 63) lastRandom[i--] = 0;
      if (i >= 0) lastRandom[i]!++;
    }
    return timeChars.join("") + lastRandom.map((n) => PUSH_CHARS[n]).join("");
  };
}
