// Shared by the unit tests; they run unchanged on Node, Bun and Deno.
export const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Records console.error calls while `fn` runs, without printing them. */
export async function captureConsoleError<T>(fn: () => Promise<T>): Promise<{ result: T; calls: unknown[][] }> {
  const original = console.error;
  const calls: unknown[][] = [];
  console.error = (...args: unknown[]) => void calls.push(args);
  try {
    return { result: await fn(), calls };
  } finally {
    console.error = original;
  }
}

/** A promise with its resolve function outside. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Fails the test on any unhandled rejection seen while `fn` runs (plus one macrotask). */
export async function noUnhandledRejections(fn: () => Promise<void>): Promise<void> {
  const seen: unknown[] = [];
  const onNode = (reason: unknown) => void seen.push(reason);
  const onWeb = (event: Event) => {
    seen.push((event as PromiseRejectionEvent).reason);
    event.preventDefault();
  };
  const proc = (globalThis as { process?: { on(e: string, f: unknown): void; off(e: string, f: unknown): void } }).process;
  proc?.on("unhandledRejection", onNode);
  globalThis.addEventListener?.("unhandledrejection", onWeb);
  try {
    await fn();
    await tick(5);
  } finally {
    proc?.off("unhandledRejection", onNode);
    globalThis.removeEventListener?.("unhandledrejection", onWeb);
  }
  if (seen.length > 0) throw new Error(`unhandled rejections: ${seen.map(String).join("; ")}`);
}
