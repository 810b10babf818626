/**
 * A first-in first-out queue. Taking an item moves the head index instead of
 * shifting the array, and the array keeps its room once emptied, so a queue
 * that fills and empties with every request grows no fresh array each time.
 * @internal
 */
export class _Queue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #tail = 0;

  get size(): number {
    return this.#tail - this.#head;
  }

  push(item: T): void {
    this.#items[this.#tail++] = item;
  }

  /** Puts `item` first (a task that was handed a place under its own limit). */
  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else {
      this.#items.unshift(item);
      this.#tail++;
    }
  }

  shift(): T | undefined {
    if (this.#head === this.#tail) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#tail) {
      this.#head = this.#tail = 0;
      if (this.#items.length > 1024) this.#items = []; // only a large burst's room is given back
    } else if (this.#head > 1024 && this.#head * 2 > this.#tail) {
      this.#items = this.#items.slice(this.#head, this.#tail);
      this.#tail -= this.#head;
      this.#head = 0;
    }
    return item;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.#head; i < this.#tail; i++) yield this.#items[i]!;
  }
}
