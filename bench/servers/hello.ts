// Section "cost": the same in-memory response, bare or wrapped with one no-op background task.
// MODE=bare | wrapped | untouched | signal | floor. Run with bun, deno, or node --import tsx.
//   untouched: wrapped, but the handler adds no task (the wrapper's cost alone);
//   signal: the bare handler plus only the platform's completion signal (Deno's info.completed,
//           Bun's server.requestIP checked on the next macrotask, Node: the next macrotask);
//   floor:  the same plus one TaskRunner.addTask per request: the least a wrapper can cost.
import { getBackgroundTasks, TaskRunner, withBackgroundTasks } from "@background/tasks";
import { serve } from "./serve.ts";

function noop(): void {}

function bare(_request: Request): Response {
  return new Response("Hello, World!");
}

const wrapped = withBackgroundTasks((request: Request): Response => {
  getBackgroundTasks(request).addTask(noop);
  return new Response("Hello, World!");
});

const untouched = withBackgroundTasks(bare);

/** The bare handler plus the platform's signal; `then` runs once the response was sent. */
function withSignal(then: () => void): (request: Request, platform?: any) => Response {
  // Bun: one timer per macrotask checks every request of the moment, as the core does.
  let pending: [Request, any][] = [];
  const check = (): void => {
    const batch = pending;
    pending = [];
    for (const [request, server] of batch) if (server.requestIP(request) == null) then();
  };
  return (request, platform) => {
    if (typeof platform?.completed?.then === "function") platform.completed.then(then);
    else if (typeof platform?.requestIP === "function") {
      if (pending.push([request, platform]) === 1) setTimeout(check, 0);
    } else setTimeout(then, 0);
    return new Response("Hello, World!");
  };
}

const runner = new TaskRunner();
const modes: Record<string, (request: Request, platform?: any) => Response> = {
  bare,
  wrapped,
  untouched,
  signal: withSignal(noop),
  floor: withSignal(() => runner.addTask(noop)),
};

const mode = (globalThis as any).process?.env?.MODE ?? (globalThis as any).Deno?.env.get("MODE");
await serve(modes[mode] ?? bare);
