/** Constant-time comparison of secrets (the bearer token, the web password). */
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented secret with the expected one in constant time. Hashing both first gives the
 * equal-length buffers timingSafeEqual needs, without revealing the expected secret's length.
 */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given === expected;
}
