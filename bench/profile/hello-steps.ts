// Where the wrapped handler's cost goes on Bun, step by step, for bench/profile/simultaneous.mjs:
//   bare     the bench's bare handler
//   watched  + the request kept until Bun has sent the answer (a batch checked with requestIP)
//   runner   + a no-op task added to the runner once it is sent (no per-request list)
//   tasks    + the request's own BackgroundTasks with the task, started once it is sent
//   wrapped  the bench's wrapped handler (withBackgroundTasks + getBackgroundTasks + addTask)
// node bench/profile/simultaneous.mjs 10 3 GET / bare=bun:bench/profile/hello-steps.ts:bare watched=bun:bench/profile/hello-steps.ts:watched ...
import { BackgroundTasks, defaultTaskRunner, getBackgroundTasks, withBackgroundTasks } from "@background/tasks";

declare const Bun: { serve(options: object): unknown };
type Server = { requestIP(request: Request): unknown };

function noop(): void {}
const bare = (_request: Request): Response => new Response("Hello, World!");

// Pairs (request, its tasks or undefined) whose answer Bun may still be writing.
let watching: unknown[] = [];
let server: Server;
let whenSent: (tasks: BackgroundTasks | undefined) => void = () => {};
function check(): void {
  const batch = watching;
  watching = [];
  for (let i = 0; i < batch.length; i += 2) {
    if (server.requestIP(batch[i] as Request) !== null) watching.push(batch[i], batch[i + 1]);
    else whenSent(batch[i + 1] as BackgroundTasks | undefined);
  }
  if (watching.length > 0) setTimeout(check, 10);
}
function watch(request: Request, bunServer: Server, tasks?: BackgroundTasks): void {
  server = bunServer;
  if (watching.push(request, tasks) === 2) setTimeout(check, 0);
}

const handlers: Record<string, (request: Request, server: Server) => Response> = {
  bare,
  watched: (request, bunServer) => (watch(request, bunServer), bare(request)),
  runner: (request, bunServer) => {
    whenSent = () => defaultTaskRunner.addTask(noop);
    watch(request, bunServer);
    return bare(request);
  },
  tasks: (request, bunServer) => {
    whenSent = (tasks) => tasks!.start();
    const tasks = new BackgroundTasks({}, request);
    tasks.addTask(noop);
    watch(request, bunServer, tasks);
    return bare(request);
  },
  wrapped: withBackgroundTasks((request: Request) => (getBackgroundTasks(request).addTask(noop), bare(request))),
};
const mode = process.env.MODE ?? "";
if (!(mode in handlers)) throw new Error(`MODE must be one of ${Object.keys(handlers).join(", ")}, got "${mode}"`);
// A signal ends the process normally, so `bun --cpu-prof` can write its profile.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
Bun.serve({ port: Number(process.env.PORT), hostname: "127.0.0.1", fetch: handlers[mode] });
