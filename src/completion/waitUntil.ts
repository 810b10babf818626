import type { WaitUntilContext } from "../types.ts";
import type { BackgroundTasks } from "../BackgroundTasks.ts";

/**
 * Workers' and Vercel's `ctx.waitUntil`: not a completion signal, but it
 * keeps the isolate alive until the tasks have settled, whichever signal
 * starts them.
 * @internal
 */
export function _keepAlive(value: object, tasks: BackgroundTasks): void {
  const waitUntil = (value as Partial<WaitUntilContext>).waitUntil;
  if (typeof waitUntil !== "function") return;
  try {
    waitUntil.call(value, tasks.settled());
  } catch {
    // A context past its request refuses waitUntil; the tasks still run.
  }
}
