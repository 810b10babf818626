/**
 * Graceful shutdown on SIGINT/SIGTERM: stop accepting connections, let
 * requests in flight finish (their responses say `Connection: close`), drain
 * the background tasks until a deadline, print what was left, exit 0. A
 * second signal exits at once.
 */
import { Elysia } from "elysia";
import type { TaskRunner } from "@background/tasks";
import { describeRequest } from "./taskReports.ts";

let stopping = false;

/**
 * Once a shutdown has begun, every response carries `Connection: close`, so a
 * keep-alive client does not send its next request on a connection the server
 * is about to close (it would be reset) but opens a new one. Use it before the routes.
 */
// mapResponse with `ctx` not destructured: the form that adds no measurable cost per request (bench/README.md).
export const connectionCloseWhenStopping = new Elysia({ name: "shutdown/connection-close" })
  .mapResponse({ as: "global" }, (ctx) => {
    if (stopping) ctx.set.headers.connection = "close";
  })
  .onError({ as: "global" }, (ctx) => {
    if (stopping) ctx.set.headers.connection = "close";
  });

export interface ShutdownOptions {
  /** Stops accepting connections; resolves when requests in flight are done. */
  readonly stopServer: () => Promise<unknown>;
  readonly runner: Pick<TaskRunner, "drain">;
  readonly timeoutMs: number;
  /** Runs after the drain and its report (spool unsent mail, close files); errors are printed, not thrown. */
  readonly cleanup?: () => Promise<void>;
}

export function exitGracefullyOnSignals(options: ShutdownOptions): void {
  const onSignal = (signal: string): void => {
    if (stopping) {
      console.log(`${signal} again: exiting now without waiting for background tasks.`);
      process.exit(1);
    }
    stopping = true;
    void shutdown(signal, options).then(() => process.exit(0), (error: unknown) => {
      console.error("shutdown failed:", error);
      process.exit(1);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

async function shutdown(signal: string, { stopServer, runner, timeoutMs, cleanup }: ShutdownOptions): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  console.log(`${signal}: not accepting new connections; waiting up to ${timeoutMs} ms for requests and background tasks.`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    stopServer().catch((error: unknown) => console.error("stopping the server failed:", error)),
    new Promise((resolve) => timer = setTimeout(resolve, timeoutMs)),
  ]);
  clearTimeout(timer);
  const { drained, unfinished } = await runner.drain({ timeoutMs: Math.max(0, deadline - Date.now()) });
  if (drained) {
    console.log("All background tasks finished.");
  } else {
    console.log(`${unfinished.length} background task(s) did not finish in time:`);
    for (const task of unfinished) {
      const request = task.request ? ` for ${describeRequest(task.request)}` : "";
      console.log(`  - ${task.name} (${task.state})${request}`);
    }
  }
  await cleanup?.().catch((error: unknown) => console.error("cleanup failed:", error));
  console.log("Bye.");
}
