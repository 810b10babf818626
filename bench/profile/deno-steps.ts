// Where the wrapped handler's cost goes on Deno, step by step, for bench/profile/simultaneous.mjs:
//   bare       the bench's bare handler
//   completed  + a no-op run when info.completed settles (Deno's own signal, nothing of ours)
//   runner     + instead, a no-op task added to the runner then (no per-request list)
//   wrapped    the bench's wrapped handler (withBackgroundTasks + getBackgroundTasks + addTask)
// node bench/profile/simultaneous.mjs 15 3 GET / bare=deno:bench/profile/deno-steps.ts:bare completed=deno:bench/profile/deno-steps.ts:completed ...
import { defaultTaskRunner, getBackgroundTasks, withBackgroundTasks } from "@background/tasks";
import { serve } from "../servers/serve.ts";

declare const Deno: { env: { get(name: string): string | undefined } };
type Info = { completed: Promise<void> };

function noop(): void {}
const bare = (_request: Request): Response => new Response("Hello, World!");

const handlers: Record<string, (request: Request, info: Info) => Response> = {
  bare,
  completed: (request, info) => (info.completed.then(noop), bare(request)),
  runner: (request, info) => (info.completed.then(() => defaultTaskRunner.addTask(noop)), bare(request)),
  wrapped: withBackgroundTasks((request: Request) => (getBackgroundTasks(request).addTask(noop), bare(request))),
};
const mode = Deno.env.get("MODE") ?? "";
if (!(mode in handlers)) throw new Error(`MODE must be one of ${Object.keys(handlers).join(", ")}, got "${mode}"`);
await serve(handlers[mode]!);
