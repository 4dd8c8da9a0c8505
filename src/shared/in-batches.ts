/** Runs `each` over `items`, at most `size` at once: a batch starts when the one before it has settled. */
export async function inBatches<T>(
  items: readonly T[],
  size: number,
  each: (item: T) => Promise<unknown>,
): Promise<void> {
  for (let start = 0; start < items.length; start += size) {
    await Promise.all(items.slice(start, start + size).map(each));
  }
}
