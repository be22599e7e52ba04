/**
 * A Map that forgets its oldest entry beyond `capacity`, for per-generation and per-chat
 * bookkeeping whose end this node may never see (the client went to another node).
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly capacity: number) {
    super();
  }

  override set(key: K, value: V): this {
    // Re-inserted, so that the entry counts as the newest.
    super.delete(key);
    super.set(key, value);
    if (this.size > this.capacity) {
      const oldest = this.keys().next();
      if (!oldest.done) super.delete(oldest.value);
    }
    return this;
  }

  /** Returns the key's value and forgets it. */
  take(key: K): V | undefined {
    const value = super.get(key);
    super.delete(key);
    return value;
  }
}
