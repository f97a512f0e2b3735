/**
 * Compares a typed secret with the expected one without an early exit: the loop always runs over the expected
 * secret's length and folds every difference (including a length mismatch) into one accumulator, so how long the
 * check takes does not tell an attacker how many leading characters were right.
 */
export function secretsEqual(typed: string, expected: string): boolean {
  let difference = typed.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    // Reading past the end of `typed` gives NaN → 0; the length term above already marks the mismatch.
    difference |= (typed.charCodeAt(i) | 0) ^ expected.charCodeAt(i);
  }
  return difference === 0;
}
