// Section "cost": the same in-memory response, bare or wrapped with one no-op background task.
// MODE=bare | wrapped | untouched | signal | floor. Run with bun, deno, or node --import tsx.
//   untouched: wrapped, but the handler adds no task (the wrapper's cost alone);
//   signal: the bare handler plus only the platform's completion signal (Deno's info.completed,
//           Bun's server.requestIP checked on the next macrotask, Node: the next macrotask);
//   floor:  the same plus one TaskRunner.addTask per request: the least a wrapper can cost.
//   listed: the handler adds the no-op to a BackgroundTasks list of its own, which the platform's
//           signal starts: the floor for tasks that are added while the handler runs.
import { BackgroundTasks, getBackgroundTasks, TaskRunner, withBackgroundTasks } from "@background/tasks";
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
  return withSignalOf(() => then);
}

/** As withSignal, with `prepare` run by the handler to make what runs once the response was sent. */
function withSignalOf(prepare: () => () => void): (request: Request, platform?: any) => Response {
  // Bun: one timer per macrotask checks every request of the moment, as the core does.
  let pending: [Request, any, () => void][] = [];
  const check = (): void => {
    const batch = pending;
    pending = [];
    for (const [request, server, then] of batch) if (server.requestIP(request) == null) then();
  };
  return (request, platform) => {
    const then = prepare();
    if (typeof platform?.completed?.then === "function") platform.completed.then(then);
    else if (typeof platform?.requestIP === "function") {
      if (pending.push([request, platform, then]) === 1) setTimeout(check, 0);
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
  listed: withSignalOf(() => {
    const tasks = new BackgroundTasks({ runner });
    tasks.addTask(noop);
    return () => tasks.start();
  }),
};

const mode = (globalThis as any).process?.env?.MODE ?? (globalThis as any).Deno?.env.get("MODE");
await serve(modes[mode] ?? bare);
