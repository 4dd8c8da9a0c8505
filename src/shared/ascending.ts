/** Compares numbers for `Array.prototype.sort`, smallest first (the default sort compares them as text). */
export function ascending(a: number, b: number): number {
  return a - b;
}
