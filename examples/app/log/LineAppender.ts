/**
 * Appends lines to one file from many concurrent tasks without losing or
 * interleaving any: callers queue lines, one loop writes them in batches
 * through a single append-mode handle, in the order they were queued.
 */
import { mkdir, open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";

interface Pending {
  readonly text: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class LineAppender {
  readonly path: string;
  #handle: Promise<FileHandle> | undefined;
  #queue: Pending[] = [];
  #writing: Promise<void> | undefined;

  constructor(path: string) {
    this.path = path;
  }

  /** Queues one line (newlines inside it become spaces); resolves once it is written. */
  append(line: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ text: line.replace(/[\r\n]+/g, " ") + "\n", resolve, reject });
      this.#writing ??= this.#writeAll();
    });
  }

  /** Waits for queued lines and closes the file. */
  async close(): Promise<void> {
    await this.#writing;
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle !== undefined) await (await handle).close();
  }

  async #writeAll(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      try {
        this.#handle ??= mkdir(dirname(this.path), { recursive: true }).then(() => open(this.path, "a"));
        await (await this.#handle).appendFile(batch.map((pending) => pending.text).join(""));
        for (const pending of batch) pending.resolve();
      } catch (error) {
        // Close the failed handle before dropping it: Bun kills the process when it
        // garbage-collects a FileHandle that is still open (seen with a full disk).
        const failed = this.#handle;
        this.#handle = undefined;
        await failed?.then((handle) => handle.close()).catch(() => {});
        for (const pending of batch) pending.reject(error);
      }
    }
    this.#writing = undefined;
  }
}
